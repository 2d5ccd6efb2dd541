/**
 * DynamoDB kept leaving part of a batch unprocessed through every retry: the table is
 * throttling, as a ProvisionedThroughputExceededException says it (answered 503, not 500).
 */
export class UnprocessedItemsError extends Error {
  override readonly name = 'UnprocessedItemsError';
}
