import {
  BatchWriteCommand,
  type DynamoDBDocumentClient,
  QueryCommand,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { UnprocessedItemsError } from './unprocessed-items-error.js';

/** BatchWriteItem's limit of requests per call. */
const BATCH_LIMIT = 25;
/** Tries of a batch's unprocessed requests before giving up (~3 s of back-off in all). */
const MAX_ATTEMPTS = 6;

/**
 * Deletes every item a query finds, page by page, retrying what a batch leaves unprocessed.
 * @param counted which of the items found count in what it returns (all by default)
 * @returns how many items it found (of those counted)
 */
export async function deleteFound(
  table: { client: DynamoDBDocumentClient; tableName: string },
  query: Pick<
    QueryCommandInput,
    'KeyConditionExpression' | 'FilterExpression' | 'ExpressionAttributeValues' | 'ConsistentRead'
  >,
  counted: (key: { pk: unknown; sk: unknown }) => boolean = () => true,
): Promise<number> {
  let found = 0;
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await table.client.send(
      new QueryCommand({
        ...query,
        TableName: table.tableName,
        ProjectionExpression: 'pk, sk',
        ExclusiveStartKey: startKey,
      }),
    );
    const itemKeys = (page.Items ?? []).map((item) => ({ pk: item.pk, sk: item.sk }));
    await deleteAll(table, itemKeys);
    found += itemKeys.filter(counted).length;
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return found;
}

async function deleteAll(
  { client, tableName }: { client: DynamoDBDocumentClient; tableName: string },
  itemKeys: Array<{ pk: unknown; sk: unknown }>,
) {
  for (let i = 0; i < itemKeys.length; i += BATCH_LIMIT) {
    let requests = itemKeys.slice(i, i + BATCH_LIMIT).map((Key) => ({ DeleteRequest: { Key } }));
    for (let attempt = 0; requests.length > 0; attempt++) {
      if (attempt >= MAX_ATTEMPTS) {
        throw new UnprocessedItemsError(
          `DynamoDB left ${requests.length} deletes of a batch unprocessed after ${MAX_ATTEMPTS} attempts`,
        );
      }
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 50 * 2 ** attempt));
      const result = await client.send(
        new BatchWriteCommand({ RequestItems: { [tableName]: requests } }),
      );
      requests = (result.UnprocessedItems?.[tableName] ?? []) as typeof requests;
    }
  }
}
