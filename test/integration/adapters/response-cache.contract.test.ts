import { randomBytes, randomUUID } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { ensureTable } from '../../../local-stack/dynamodb/create-table.js';
import { ensureLocalAwsEnv } from '../../../local-stack/function-env.js';
import {
  createDocumentClient,
  createDynamoDbClient,
} from '../../../shared/adapters/aws/clients.js';
import { responseCacheKeys } from '../../../shared/adapters/dynamodb/keys.js';
import { DynamoResponseCache } from '../../../shared/adapters/dynamodb/response-cache.js';
import type { CachedResponse } from '../../../shared/ports/response-cache.js';
import { responseCacheContract } from '../../contracts/response-cache.contract.js';

/** Small parts keep the many-part cases fast; production uses 350 KB. */
const MAX_PART_BYTES = 50_000;
const T0 = Date.parse('2026-11-15T10:00:00.000Z');

let client: DynamoDBClient;
let documents: DynamoDBDocumentClient;
let tableName: string;
let cache: DynamoResponseCache;
beforeAll(async () => {
  ensureLocalAwsEnv();
  client = createDynamoDbClient(inject('dynamodbEndpoint'));
  documents = createDocumentClient(client);
  tableName = `contract-rcache-${randomUUID().slice(0, 8)}`;
  await ensureTable(client, tableName);
  cache = new DynamoResponseCache(documents, tableName, { maxPartBytes: MAX_PART_BYTES });
});

describe('DynamoResponseCache on DynamoDB Local', () => {
  responseCacheContract(async () => cache);
});

describe('DynamoResponseCache items', () => {
  const newKey = () => randomBytes(32).toString('hex');
  const answer = (body: string): CachedResponse => ({
    format: 'sse',
    body,
    model: 'claude-sonnet-4-5',
    stopReason: 'end_turn',
    usage: {
      inputTokens: 10,
      outputTokens: 20,
      cacheReadInputTokens: 0,
      cacheCreationInputTokens: 0,
    },
  });
  /** Random base64 barely compresses: about 0.75 bytes stored per character. */
  const incompressible = (chars: number) => randomBytes((chars * 3) / 4).toString('base64');

  const partsOf = async (key: string) =>
    (
      await documents.send(
        new QueryCommand({
          TableName: tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :part)',
          ExpressionAttributeValues: {
            ':pk': responseCacheKeys.partition(key),
            ':part': responseCacheKeys.partPrefix,
          },
          ConsistentRead: true,
        }),
      )
    ).Items ?? [];
  const headOf = async (key: string) =>
    (
      await documents.send(
        new GetCommand({
          TableName: tableName,
          Key: responseCacheKeys.head(key),
          ConsistentRead: true,
        }),
      )
    ).Item;
  const setOnPart = (key: string, index: number, name: string, value: unknown) =>
    documents.send(
      new UpdateCommand({
        TableName: tableName,
        Key: responseCacheKeys.part(key, index),
        UpdateExpression: 'SET #name = :value',
        ExpressionAttributeNames: { '#name': name },
        ExpressionAttributeValues: { ':value': value },
      }),
    );

  it('splits a body into parts of at most maxPartBytes, each of the head version', async () => {
    const key = newKey();

    await cache.put(key, answer(incompressible(200_000)), { ttlSeconds: 60, nowMs: T0 });

    const head = await headOf(key);
    const parts = await partsOf(key);
    expect(head?.parts).toBeGreaterThanOrEqual(3);
    expect(parts).toHaveLength(head?.parts);
    for (const part of parts) {
      expect(part.version).toBe(head?.version);
      expect((part.body as Uint8Array).length).toBeLessThanOrEqual(MAX_PART_BYTES);
    }
    const stored = parts.reduce((sum, part) => sum + (part.body as Uint8Array).length, 0);
    expect(stored).toBe(head?.compressedBytes);
  });

  it('stamps head and parts with the TTL in epoch seconds, rounded up', async () => {
    const key = newKey();

    await cache.put(key, answer('data: {}\n\n'), { ttlSeconds: 60, nowMs: T0 + 250 });

    const expiresAt = T0 / 1000 + 61;
    expect((await headOf(key))?.expiresAt).toBe(expiresAt);
    expect((await partsOf(key)).map((part) => part.expiresAt)).toEqual([expiresAt]);
  });

  it('gives every put a fresh version', async () => {
    const key = newKey();
    await cache.put(key, answer('one'), { ttlSeconds: 60, nowMs: T0 });
    const first = await headOf(key);

    await cache.put(key, answer('one'), { ttlSeconds: 60, nowMs: T0 });

    expect((await headOf(key))?.version).not.toBe(first?.version);
  });

  it('misses when a part carries another version, as during a concurrent replace', async () => {
    const key = newKey();
    await cache.put(key, answer(incompressible(120_000)), { ttlSeconds: 60, nowMs: T0 });

    await setOnPart(key, 1, 'version', randomUUID());

    expect(await cache.get(key, T0)).toBeUndefined();
  });

  it('misses when a part is missing', async () => {
    const key = newKey();
    await cache.put(key, answer(incompressible(120_000)), { ttlSeconds: 60, nowMs: T0 });

    await documents.send(
      new UpdateCommand({
        TableName: tableName,
        Key: responseCacheKeys.head(key),
        UpdateExpression: 'SET parts = parts + :one',
        ExpressionAttributeValues: { ':one': 1 },
      }),
    );

    expect(await cache.get(key, T0)).toBeUndefined();
  });

  it('misses when one bit of a part is flipped, which brotli would decode without an error', async () => {
    const key = newKey();
    await cache.put(key, answer(incompressible(120_000)), { ttlSeconds: 60, nowMs: T0 });
    const [, part] = await partsOf(key);
    const damaged = Buffer.from(part!.body as Uint8Array);
    damaged[damaged.length >> 1]! ^= 0x01;

    await setOnPart(key, 1, 'body', damaged);

    expect(await cache.get(key, T0)).toBeUndefined();
  });

  it('misses when the head is of the wrong shape', async () => {
    const key = newKey();
    await cache.put(key, answer('data: {}\n\n'), { ttlSeconds: 60, nowMs: T0 });

    await documents.send(
      new UpdateCommand({
        TableName: tableName,
        Key: responseCacheKeys.head(key),
        UpdateExpression: 'SET #format = :format',
        ExpressionAttributeNames: { '#format': 'format' },
        ExpressionAttributeValues: { ':format': 'xml' },
      }),
    );

    expect(await cache.get(key, T0)).toBeUndefined();
  });

  it('lets DynamoDB errors through instead of reading them as a miss', async () => {
    const missingTable = new DynamoResponseCache(documents, `missing-${randomUUID().slice(0, 8)}`);

    await expect(missingTable.get(newKey(), T0)).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
    });
    await expect(
      missingTable.put(newKey(), answer('x'), { ttlSeconds: 60, nowMs: T0 }),
    ).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
  });
});
