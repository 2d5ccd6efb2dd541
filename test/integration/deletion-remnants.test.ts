import { brotliDecompressSync } from 'node:zlib';
import { DeleteCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { conversationIdOfChat } from '../../functions/chat/routes/ui-chat-id.js';
import { bodyText, requestsMentioning } from './support/claude-requests.js';
import { conversationOf, requestCompaction } from './support/compactions.js';
import { collectSse, json } from './support/sse.js';
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

describe('a conversation deleted while its answer streams', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack({ claude: { tokensPerSecond: 40 } });
  });
  afterAll(() => stack.close());

  it('keeps no piece of that answer, nor anything else of it', async () => {
    const userId = 'midstream';
    const answering = collectSse(
      await stack.chat(userId, { message: `streams ${directive('tokens=400')}` }),
    );
    let conversationId = '';
    await expect
      .poll(
        async () => {
          const items = await itemsHolding(stack, `USER#${userId}#CONV#`);
          conversationId = String(items.find((item) => item.sk === 'META')?.conversationId ?? '');
          return items.filter((item) => String(item.sk).startsWith('PART#')).length;
        },
        { timeout: 10_000 },
      )
      .toBeGreaterThan(1);
    const deleted = await stack.request(userId, 'DELETE', `/v1/conversations/${conversationId}`);
    expect(deleted.status).toBe(204);
    await answering;
    // Writes still in flight when the stream ended land by now.
    await new Promise((resolve) => setTimeout(resolve, 1_500));

    expect(await itemsHolding(stack, conversationId)).toEqual([]);
  });
});

describe('a useChat chat deleted mid-answer and made again under its id', () => {
  it('shows nothing of the deleted chat in the new one', async () => {
    const stack = await startTestStack({
      claude: { tokensPerSecond: 40 },
      // Displaced by its heartbeat (every 100 ms), not stopped by a poll that sees the delete.
      chatTuning: { stopPollIntervalMs: 10_000, turnLeaseMs: 400 },
    });
    try {
      const userId = 'remaker';
      const chatId = 'remade-chat';
      const marker = 'pangolinsextant';
      const ask = (text: string) =>
        stack.request(userId, 'POST', '/v1/ui/chat', {
          id: chatId,
          messages: [{ id: 'u1', role: 'user', parts: [{ type: 'text', text }] }],
          trigger: 'submit-message',
        });
      const first = await ask(`${marker} ${directive('reply=echo tokens=300')}`);
      const reading = first.text();
      const conversationId = conversationIdOfChat(userId, chatId);
      await expect
        .poll(async () => (await itemsHolding(stack, marker)).length, { timeout: 10_000 })
        .toBeGreaterThan(1);
      const deleted = await stack.request(userId, 'DELETE', `/v1/conversations/${conversationId}`);
      expect(deleted.status).toBe(204);
      const remade = await ask(`Something else entirely ${directive('tokens=40')}`);
      expect(remade.status).toBe(200);
      await Promise.all([remade.text(), reading]);
      await new Promise((resolve) => setTimeout(resolve, 1_500));

      expect(await itemsHolding(stack, marker)).toEqual([]);
      const remnants = (await itemsHolding(stack, `USER#${userId}#CONV#${conversationId}`)).filter(
        (item) => String(item.sk).startsWith('PART#'),
      );
      const meta = await json(
        await stack.request(userId, 'GET', `/v1/conversations/${conversationId}`),
      );
      const answerId = meta.messages.at(-1).id;
      expect(remnants.filter((item) => item.turnId !== answerId)).toEqual([]);
    } finally {
      await stack.close();
    }
  });
});

describe('a conversation deleted while a compaction of it runs', () => {
  it('keeps neither its summary nor the summaries of its parts', async () => {
    const stack = await startTestStack({
      worker: true,
      env: { COMPACTION_THRESHOLD_TOKENS: '90000', DOCUMENT_CHUNK_TOKENS: '100' },
    });
    try {
      const userId = 'compacted';
      const marker = 'quetzalvelvet';
      const paragraph = (words: string) => `${words} `.repeat(30).trim();
      const conversationId = await conversationOf(stack, userId, [
        // Its part is summarized slowly: the delete comes meanwhile.
        `${directive('ttft=3000 reply=echo')} ${paragraph(`${marker} slow`)}`,
        `${directive('reply=echo')} ${paragraph(`${marker} second`)}`,
        `${directive('reply=echo')} ${paragraph(`${marker} third`)}`,
      ]);
      const jobId = 'compaction-deleted-midway';
      await requestCompaction(stack, { jobId, userId, conversationId });
      await expect
        .poll(async () => (await stack.claude.requests.length) > 3, { timeout: 15_000 })
        .toBe(true);
      const deleted = await stack.request(userId, 'DELETE', `/v1/conversations/${conversationId}`);
      expect(deleted.status).toBe(204);
      await expect
        .poll(
          async () =>
            (await itemsHolding(stack, `USER#${userId}#JOB#${jobId}`)).find(
              (item) => item.sk === 'JOB',
            )?.status,
          { timeout: 45_000, interval: 200 },
        )
        .toMatch(/^(failed|succeeded|dead_lettered)$/);
      await new Promise((resolve) => setTimeout(resolve, 1_000));

      expect(await itemsHolding(stack, marker)).toEqual([]);
      // Only the job names it (by id, in its error): none of its text.
      expect((await itemsHolding(stack, conversationId)).map((item) => item.sk)).toEqual(['JOB']);
      const checkpoints = (await itemsHolding(stack, `USER#${userId}#JOB#${jobId}`)).filter(
        (item) => String(item.sk).startsWith('CKPT#'),
      );
      expect(checkpoints).toEqual([]);
    } finally {
      await stack.close();
    }
  }, 60_000);
});

describe('a delete that died after the conversation item went, before its sweep', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack();
  });
  afterAll(() => stack.close());

  /** What a function killed (or whose sweep failed) right after deleting `META` leaves. */
  const halfDelete = (userId: string, conversationId: string) =>
    stack.documentClient.send(
      new DeleteCommand({
        TableName: stack.tableName,
        Key: { pk: `USER#${userId}#CONV#${conversationId}`, sk: 'META' },
      }),
    );

  it('is finished by the DELETE sent again', async () => {
    const userId = 'retrier';
    const marker = 'axolotlbandstand';
    const events = await collectSse(
      await stack.chat(userId, { message: `${marker} ${directive('reply=echo')}` }),
    );
    const conversationId = String(events[0]!.data.conversationId);
    await halfDelete(userId, conversationId);

    const again = await stack.request(userId, 'DELETE', `/v1/conversations/${conversationId}`);

    expect(again.status).toBe(204);
    expect(await itemsHolding(stack, marker)).toEqual([]);
    const gone = await stack.request(userId, 'DELETE', `/v1/conversations/${conversationId}`);
    expect(gone.status).toBe(404);
  });

  it('lets a useChat chat be made again under its id, with nothing of the old one', async () => {
    const userId = 'rechatter';
    const chatId = 'half-deleted-chat';
    const marker = 'wombatclarinet';
    const ask = (text: string) =>
      stack.request(userId, 'POST', '/v1/ui/chat', {
        id: chatId,
        messages: [{ id: 'u1', role: 'user', parts: [{ type: 'text', text }] }],
        trigger: 'submit-message',
      });
    await (await ask(`${marker} ${directive('reply=echo')}`)).text();
    const conversationId = conversationIdOfChat(userId, chatId);
    await halfDelete(userId, conversationId);
    expect(
      (await stack.request(userId, 'DELETE', `/v1/conversations/${conversationId}`)).status,
    ).toBe(204);

    const remade = await ask(`Something new ${directive('tokens=5')}`);
    expect(remade.status).toBe(200);
    await remade.text();
    const history = await json(
      await stack.request(userId, 'GET', `/v1/conversations/${conversationId}`),
    );
    expect(JSON.stringify(history)).not.toContain(marker);
    expect(history.messages).toHaveLength(2);
  });
});

describe('a conversation deleted while the table keeps leaving its batch deletes unprocessed', () => {
  it('answers 503 within seconds (not a hang to the timeout, nor a 500), and a delete sent again finishes it', async () => {
    let throttled = false;
    const stack = await startTestStack({
      // As a throttled table answers BatchWriteItem: nothing done, everything left to retry.
      observeChatDynamoDb: (client) =>
        client.middlewareStack.add(
          (next, context) => async (args) => {
            if (!throttled || context.commandName !== 'BatchWriteItemCommand') return next(args);
            const { RequestItems } = args.input as { RequestItems: Record<string, unknown> };
            return { output: { UnprocessedItems: RequestItems, $metadata: {} }, response: {} };
          },
          { step: 'initialize', name: 'unprocessedBatchWrites' },
        ),
    });
    try {
      const first = await collectSse(await stack.chat('tern', { message: 'Hello' }));
      const conversationId = String(first[0]!.data.conversationId);

      throttled = true;
      const startedAt = Date.now();
      const refused = await stack.request('tern', 'DELETE', `/v1/conversations/${conversationId}`);
      const tookMs = Date.now() - startedAt;
      throttled = false;
      const again = await stack.request('tern', 'DELETE', `/v1/conversations/${conversationId}`);

      expect(refused.status).toBe(503);
      expect(refused.headers.get('retry-after')).toBe('1');
      expect(tookMs).toBeLessThan(20_000);
      expect(again.status).toBe(204);
      expect(await itemsHolding(stack, conversationId)).toEqual([]);
    } finally {
      await stack.close();
    }
  });
});

describe('a conversation deleted while its compaction calls Claude', () => {
  it('stops the call under way and makes no other, paying only what was generated', async () => {
    const stack = await startTestStack({
      worker: true,
      env: { COMPACTION_THRESHOLD_TOKENS: '90000', DOCUMENT_CHUNK_TOKENS: '100' },
    });
    try {
      const userId = 'compacted-slowly';
      const paragraph = (words: string) => `${words} `.repeat(30).trim();
      const conversationId = await conversationOf(
        stack,
        userId,
        [
          // Its part is summarized for 20 s (200 tokens, 10 a second): the delete comes meanwhile.
          `${directive('tps=10 tokens=200')} ${paragraph('slow')}`,
          `${directive('reply=echo')} ${paragraph('second')}`,
          `${directive('reply=echo')} ${paragraph('third')}`,
        ],
        { maxTokens: 4 },
      );
      const jobId = 'compaction-deleted-mid-call';
      await requestCompaction(stack, { jobId, userId, conversationId });
      const summarizing = () => requestsMentioning(stack.claude, 'Summarize');
      const slowPart = () => summarizing().find((r) => bodyText(r).includes('tps=10 tokens=200'));
      await expect
        .poll(() => slowPart()?.outputTokensSent ?? 0, { timeout: 20_000 })
        .toBeGreaterThan(0);
      const deleted = await stack.request(userId, 'DELETE', `/v1/conversations/${conversationId}`);
      expect(deleted.status).toBe(204);
      const deletedAt = Date.now();

      await expect.poll(() => slowPart()?.aborted, { timeout: 5_000, interval: 100 }).toBe(true);
      const job = () =>
        itemsHolding(stack, `USER#${userId}#JOB#${jobId}`).then((items) =>
          items.find((item) => item.sk === 'JOB'),
        );
      await expect
        .poll(async () => (await job())?.status, { timeout: 10_000, interval: 200 })
        .toBe('failed');
      expect(slowPart()!.outputTokensSent).toBeLessThan(200);
      // No call began after the delete (another part, or the parts' summaries combined).
      expect(summarizing().filter((r) => r.receivedAt > deletedAt)).toEqual([]);
      // What the cut call generated is paid for, on the job and the user's month alike.
      const stored = await job();
      expect(stored?.error).toMatchObject({ type: 'not_found_error' });
      expect(Number(stored?.costNanoUsd)).toBeGreaterThan(0);
      const usage = await json(await stack.request(userId, 'GET', '/v1/usage'));
      expect(usage.requests).toBe(3 + summarizing().length);
    } finally {
      await stack.close();
    }
  }, 60_000);
});
