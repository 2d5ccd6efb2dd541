import { createHash, randomUUID } from 'node:crypto';
import { brotliCompressSync, brotliDecompressSync, constants } from 'node:zlib';
import {
  BatchWriteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
} from '@aws-sdk/lib-dynamodb';
import type { TokenUsage } from '../../domain/usage.js';
import type { CachedResponse, ResponseCache } from '../../ports/response-cache.js';
import { deleteFound } from './delete-found.js';
import { responseCacheKeys } from './keys.js';
import { UnprocessedItemsError } from './unprocessed-items-error.js';

/**
 * Brotli quality 5: a 1 MB SSE answer compresses ~23× in ~5 ms (1 MB of dense prose as
 * JSON: ~4.6× in ~17 ms). Quality 11 saves a quarter more and takes over a second.
 */
const BROTLI_QUALITY = 5;
const BATCH_WRITE_LIMIT = 25;
const MAX_BATCH_ATTEMPTS = 8;

export interface DynamoResponseCacheOptions {
  /**
   * The largest slice of the compressed body one part item holds.
   * @default 350_000 (an item holds at most 400 KB, keys and attribute names included)
   */
  maxPartBytes?: number;
}

/** What the head item says of its entry, once checked. */
interface Head extends Omit<CachedResponse, 'body'> {
  version: string;
  parts: number;
  compressedBytes: number;
  compressedSha256: string;
  expiresAt: number;
}

/**
 * The ResponseCache port on the single table: a head item, and the brotli-compressed
 * body in parts of at most `maxPartBytes`, each stamped with the head's `version`.
 * Bad data reads as a miss (a cache fails open); DynamoDB errors are thrown.
 */
export class DynamoResponseCache implements ResponseCache {
  private readonly maxPartBytes: number;

  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    options: DynamoResponseCacheOptions = {},
  ) {
    this.maxPartBytes = options.maxPartBytes ?? 350_000;
  }

  async get(key: string, nowMs: number): Promise<CachedResponse | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: responseCacheKeys.head(key) }),
    );
    const head = Item && toHead(Item);
    // DynamoDB TTL deletes expired items late, up to days late.
    if (!head || head.expiresAt * 1000 <= nowMs) return undefined;
    const compressed = joinParts(await this.readParts(key, head.parts), key, head);
    const body = compressed && decompress(compressed);
    if (body === undefined) return undefined;
    return {
      format: head.format,
      body,
      model: head.model,
      stopReason: head.stopReason,
      usage: head.usage,
    };
  }

  async put(
    key: string,
    response: CachedResponse,
    options: { ttlSeconds: number; nowMs: number },
  ): Promise<void> {
    const raw = Buffer.from(response.body, 'utf8');
    const compressed = brotliCompressSync(raw, {
      params: {
        [constants.BROTLI_PARAM_QUALITY]: BROTLI_QUALITY,
        [constants.BROTLI_PARAM_SIZE_HINT]: raw.length,
      },
    });
    const version = randomUUID();
    const expiresAt = Math.ceil((options.nowMs + options.ttlSeconds * 1000) / 1000);
    const parts = slices(compressed, this.maxPartBytes);
    // Parts first, head last: a reader that finds the head finds its parts. Parts of a
    // replaced entry beyond the new count are left to TTL: the reader never asks for
    // them, a later put overwrites them, and TTL deletes cost nothing where a
    // DeleteItem costs the item's size in write units (up to 350 per part).
    await this.writeAll(
      parts.map((body, index) => ({
        ...responseCacheKeys.part(key, index),
        version,
        body,
        expiresAt,
      })),
    );
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          ...responseCacheKeys.head(key),
          version,
          parts: parts.length,
          format: response.format,
          model: response.model,
          stopReason: response.stopReason,
          usage: response.usage,
          compressedBytes: compressed.length,
          compressedSha256: sha256(compressed),
          expiresAt,
        },
      }),
    );
  }

  /** Every item of the entry, parts of a replaced, longer entry included. */
  async delete(key: string): Promise<void> {
    await deleteFound(
      { client: this.client, tableName: this.tableName },
      {
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': responseCacheKeys.partition(key) },
        // A put that landed a moment ago goes too.
        ConsistentRead: true,
      },
    );
  }

  /** Parts 0…count-1 only, so stale parts of an earlier, longer entry are never read. */
  private async readParts(key: string, count: number): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND sk BETWEEN :first AND :last',
          ExpressionAttributeValues: {
            ':pk': responseCacheKeys.partition(key),
            ':first': responseCacheKeys.part(key, 0).sk,
            ':last': responseCacheKeys.part(key, count - 1).sk,
          },
          // The head may have been read eventually consistent, but its parts were
          // written before it: a strongly consistent read sees them all.
          ConsistentRead: true,
          ExclusiveStartKey: startKey,
        }),
      );
      items.push(...(page.Items ?? []));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return items;
  }

  private async writeAll(items: Record<string, unknown>[]): Promise<void> {
    for (let i = 0; i < items.length; i += BATCH_WRITE_LIMIT) {
      let requests = items
        .slice(i, i + BATCH_WRITE_LIMIT)
        .map((Item) => ({ PutRequest: { Item } }));
      for (let attempt = 1; requests.length > 0; attempt++) {
        if (attempt > MAX_BATCH_ATTEMPTS) {
          throw new UnprocessedItemsError(
            `DynamoDB left ${requests.length} response cache parts unwritten after ${MAX_BATCH_ATTEMPTS} attempts`,
          );
        }
        if (attempt > 1) await backOff(attempt);
        const result = await this.client.send(
          new BatchWriteCommand({ RequestItems: { [this.tableName]: requests } }),
        );
        requests = (result.UnprocessedItems?.[this.tableName] ?? []) as typeof requests;
      }
    }
  }
}

function slices(bytes: Buffer, size: number): Buffer[] {
  // Brotli output is never empty, so there is always a part.
  const count = Math.ceil(bytes.length / size);
  return Array.from({ length: count }, (_, index) =>
    bytes.subarray(index * size, (index + 1) * size),
  );
}

/** The compressed body, if every part is there, in order, and of the head's version. */
function joinParts(items: Record<string, unknown>[], key: string, head: Head): Buffer | undefined {
  if (items.length !== head.parts) return undefined;
  const bodies: Uint8Array[] = [];
  for (const [index, item] of items.entries()) {
    // Another version means a replace is under way (or died midway): never mix bodies.
    if (item.sk !== responseCacheKeys.part(key, index).sk || item.version !== head.version) {
      return undefined;
    }
    if (!(item.body instanceof Uint8Array)) return undefined;
    bodies.push(item.body);
  }
  const compressed = Buffer.concat(bodies);
  // Brotli has no checksum of its own, and it ignores trailing bytes: a damaged part
  // could decompress to a wrong body without an error.
  if (compressed.length !== head.compressedBytes || sha256(compressed) !== head.compressedSha256) {
    return undefined;
  }
  return compressed;
}

function decompress(compressed: Buffer): string | undefined {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(brotliDecompressSync(compressed));
  } catch {
    return undefined;
  }
}

function toHead(item: Record<string, unknown>): Head | undefined {
  const {
    version,
    parts,
    format,
    model,
    stopReason,
    compressedBytes,
    compressedSha256,
    expiresAt,
  } = item;
  const usage = toUsage(item.usage);
  if (
    typeof version !== 'string' ||
    !isCount(parts) ||
    parts < 1 ||
    (format !== 'sse' && format !== 'json' && format !== 'text') ||
    typeof model !== 'string' ||
    typeof stopReason !== 'string' ||
    !isCount(compressedBytes) ||
    typeof compressedSha256 !== 'string' ||
    typeof expiresAt !== 'number' ||
    !usage
  ) {
    return undefined;
  }
  return {
    version,
    parts,
    format,
    model,
    stopReason,
    usage,
    compressedBytes,
    compressedSha256,
    expiresAt,
  };
}

function toUsage(value: unknown): TokenUsage | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const usage = value as Record<string, unknown>;
  const { inputTokens, outputTokens, cacheReadInputTokens, cacheCreationInputTokens } = usage;
  if (
    !isCount(inputTokens) ||
    !isCount(outputTokens) ||
    !isCount(cacheReadInputTokens) ||
    !isCount(cacheCreationInputTokens)
  ) {
    return undefined;
  }
  const cacheCreation1hInputTokens = usage.cacheCreation1hInputTokens;
  return {
    inputTokens,
    outputTokens,
    cacheReadInputTokens,
    cacheCreationInputTokens,
    ...(isCount(cacheCreation1hInputTokens) && { cacheCreation1hInputTokens }),
  };
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('base64');

const isCount = (value: unknown): value is number =>
  typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;

const backOff = (attempt: number) => {
  const delayMs = Math.min(1_000, 25 * 2 ** attempt);
  return new Promise((resolve) => setTimeout(resolve, delayMs / 2 + Math.random() * delayMs));
};
