import { type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { CursorCodec } from './cursor.js';

type Item = Record<string, unknown>;

/** A filtered listing reads this many items per query… */
const FILTERED_READ_SIZE = 100;
/** …and at most this many queries per page, after which the page is returned short, with a cursor. */
const MAX_READS_PER_PAGE = 10;

/**
 * One page of a `gsi1` partition, newest first, optionally filtered on one attribute,
 * with an encrypted cursor bound to `cursorOwner`. A filter reads ahead in larger queries
 * (a page may still come back short, with a cursor, after MAX_READS_PER_PAGE of them);
 * a query that reads past the page resumes right after its last item kept.
 */
export async function queryIndexPage(
  deps: { client: DynamoDBDocumentClient; tableName: string; cursors: CursorCodec },
  request: {
    partition: string;
    /** What the cursor is bound to: another listing's cursor is refused (400). */
    cursorOwner: string;
    limit: number;
    cursor?: string;
    filter?: { attribute: string; value: string };
  },
): Promise<{ items: Item[]; nextCursor?: string }> {
  const { partition, cursorOwner, limit, filter } = request;
  let startKey: Item | undefined = await deps.cursors.decode(request.cursor, cursorOwner);
  const items: Item[] = [];
  for (let reads = 0; reads < MAX_READS_PER_PAGE; reads++) {
    const wanted = limit - items.length;
    const result = await deps.client.send(
      new QueryCommand({
        TableName: deps.tableName,
        IndexName: 'gsi1',
        KeyConditionExpression: 'gsi1pk = :pk',
        ScanIndexForward: false,
        Limit: filter ? Math.max(wanted, FILTERED_READ_SIZE) : wanted,
        ExclusiveStartKey: startKey,
        ...(filter && {
          FilterExpression: '#filtered = :filtered',
          ExpressionAttributeNames: { '#filtered': filter.attribute },
        }),
        ExpressionAttributeValues: {
          ':pk': partition,
          ...(filter && { ':filtered': filter.value }),
        },
      }),
    );
    const found = result.Items ?? [];
    items.push(...found.slice(0, wanted));
    if (found.length > wanted) {
      // The read went past the page: the next one starts right after its last key.
      startKey = indexKeyOf(items.at(-1)!);
      break;
    }
    startKey = result.LastEvaluatedKey;
    if (!startKey || items.length === limit) break;
  }
  const nextCursor = await deps.cursors.encode(startKey, cursorOwner);
  return nextCursor ? { items, nextCursor } : { items };
}

/** The base-table and index key of a listed item: where the next query of the index resumes. */
function indexKeyOf(item: Item): Record<string, string> {
  return {
    pk: String(item.pk),
    sk: String(item.sk),
    gsi1pk: String(item.gsi1pk),
    gsi1sk: String(item.gsi1sk),
  };
}
