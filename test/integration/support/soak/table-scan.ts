import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { TestStack } from '../test-stack.js';

export type Item = Record<string, unknown>;

/** Every item of the stack's table that `keep` keeps, read consistently. */
export async function scanAll(stack: TestStack, keep: (item: Item) => boolean): Promise<Item[]> {
  const items: Item[] = [];
  let start: Item | undefined;
  do {
    const page = await stack.documentClient.send(
      new ScanCommand({
        TableName: stack.tableName,
        ConsistentRead: true,
        ExclusiveStartKey: start,
      }),
    );
    items.push(...(page.Items ?? []).filter(keep));
    start = page.LastEvaluatedKey;
  } while (start);
  return items;
}
