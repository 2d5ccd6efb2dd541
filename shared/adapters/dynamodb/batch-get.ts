import { setTimeout } from 'node:timers/promises';
import { BatchGetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { UnprocessedItemsError } from './unprocessed-items-error.js';

type Key = Record<string, unknown>;

const MAX_ATTEMPTS = 6;

/**
 * The items of `keys` that exist (at most 100 keys, BatchGetItem's limit). A throttled
 * batch answers part of it and lists the rest as UnprocessedKeys (never on DynamoDB Local):
 * those are asked again with back-off, as AWS advises, rather than taken as missing.
 */
export async function batchGetAll(
  { client, tableName }: { client: DynamoDBDocumentClient; tableName: string },
  keys: Key[],
  options: { consistent: boolean; projection?: string },
): Promise<Key[]> {
  const items: Key[] = [];
  let left = keys;
  for (let attempt = 0; left.length > 0; attempt++) {
    if (attempt >= MAX_ATTEMPTS) {
      throw new UnprocessedItemsError(
        `DynamoDB left ${left.length} keys of a batch read unprocessed`,
      );
    }
    if (attempt > 0) await setTimeout(10 * 2 ** attempt);
    const { Responses, UnprocessedKeys } = await client.send(
      new BatchGetCommand({
        RequestItems: {
          [tableName]: {
            Keys: left,
            ConsistentRead: options.consistent,
            ...(options.projection && { ProjectionExpression: options.projection }),
          },
        },
      }),
    );
    items.push(...(Responses?.[tableName] ?? []));
    left = (UnprocessedKeys?.[tableName]?.Keys ?? []) as Key[];
  }
  return items;
}
