import { brotliDecompressSync } from 'node:zlib';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectSse } from './support/sse.js';
import { startTestStack, type TestStack } from './support/test-stack.js';

const directive = (text: string) => `[[local-claude: ${text}]]`;

/** Every item of the whole table that holds `text` anywhere, in a brotli-compressed body too. */
async function itemsHolding(stack: TestStack, text: string) {
  const found: Record<string, unknown>[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await stack.documentClient.send(
      new ScanCommand({
        TableName: stack.tableName,
        ConsistentRead: true,
        ExclusiveStartKey: startKey,
      }),
    );
    found.push(...(page.Items ?? []).filter((item) => readable(item).includes(text)));
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return found;
}

describe('a deleted conversation', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack({ env: { RESPONSE_CACHE_TTL_SECONDS: '3600' } });
  });
  afterAll(() => stack.close());

  it('leaves nothing of what was said anywhere in the table', async () => {
    const userId = 'auditee';
    const marker = 'zanzibarquokka';
    const first = await collectSse(
      await stack.chat(userId, { message: `${marker} first ${directive('reply=echo')}` }),
    );
    const conversationId = String(first[0]!.data.conversationId);
    await collectSse(
      await stack.chat(userId, {
        conversationId,
        message: `${marker} second ${directive('reply=echo')}`,
      }),
    );
    const regenerated = await stack.request(
      userId,
      'POST',
      `/v1/conversations/${conversationId}/regenerate`,
      {},
    );
    await collectSse(regenerated);
    expect((await itemsHolding(stack, marker)).length).toBeGreaterThan(0);

    const deleted = await stack.request(userId, 'DELETE', `/v1/conversations/${conversationId}`);
    expect(deleted.status).toBe(204);

    expect(await itemsHolding(stack, marker)).toEqual([]);
    expect(await itemsHolding(stack, conversationId)).toEqual([]);
  });
});

describe('a conversation deleted after its first answer was stored, before it was cached', () => {
  it('leaves no cached copy of that answer', async () => {
    const userId = 'racer';
    const marker = 'okapiharmonica';
    let deleteNow: (() => Promise<void>) | undefined;
    const stack: TestStack = await startTestStack({
      env: { RESPONSE_CACHE_TTL_SECONDS: '3600' },
      customizeChat: (adapters) => ({
        ...adapters,
        responseCache: {
          get: (key, nowMs) => adapters.responseCache.get(key, nowMs),
          delete: (key) => adapters.responseCache.delete(key),
          put: async (key, response, options) => {
            await deleteNow?.();
            return adapters.responseCache.put(key, response, options);
          },
        },
      }),
    });
    try {
      const answering = stack.chat(userId, { message: `${marker} ${directive('reply=echo')}` });
      deleteNow = async () => {
        const conversation = await stack.documentClient.send(
          new ScanCommand({ TableName: stack.tableName, ConsistentRead: true }),
        );
        const meta = conversation.Items?.find((item) => item.sk === 'META');
        const id = String(meta?.conversationId);
        const deleted = await stack.request(userId, 'DELETE', `/v1/conversations/${id}`);
        expect(deleted.status).toBe(204);
      };
      const events = await collectSse(await answering);
      expect(events.at(-1)?.event).toBe('done');

      expect(await itemsHolding(stack, marker)).toEqual([]);
    } finally {
      await stack.close();
    }
  });
});

/** An item as text, its binary attributes decompressed where they are brotli. */
function readable(item: Record<string, unknown>): string {
  return JSON.stringify(item, (_key, value) => {
    if (!(value instanceof Uint8Array)) return value;
    try {
      return brotliDecompressSync(value).toString('utf8');
    } catch {
      return Buffer.from(value).toString('utf8');
    }
  });
}
