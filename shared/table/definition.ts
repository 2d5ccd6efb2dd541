/**
 * The single-table definition: the one source of truth for keys, indexes and TTL,
 * used by the CDK table construct and by the local stack's CreateTable.
 * See docs/data-model.md for the item types and access patterns.
 */
export const TABLE_DEFINITION = {
  partitionKey: { name: 'pk', type: 'S' },
  sortKey: { name: 'sk', type: 'S' },
  /** Epoch seconds; items with a past value are deleted by DynamoDB TTL. */
  timeToLiveAttribute: 'expiresAt',
  globalSecondaryIndexes: [
    {
      /** A user's conversations ordered by last activity. */
      indexName: 'gsi1',
      partitionKey: { name: 'gsi1pk', type: 'S' },
      sortKey: { name: 'gsi1sk', type: 'S' },
      projection: 'ALL',
    },
  ],
} as const;

export type TableDefinition = typeof TABLE_DEFINITION;
