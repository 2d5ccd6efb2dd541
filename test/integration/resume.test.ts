import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { answerText, collectSse, json, readSse, type SseEvent } from './support/sse.js';
import { startTestStack, type TestStack } from './support/test-stack.js';
import { awayFromMinuteEnd } from './support/wall-clock-windows.js';

const directive = (text: string) => `[[local-claude: ${text}]]`;

/** A client that loses the stream gets the rest from the table, not from the turn's function. */
describe('resuming a stream', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack({
      claude: { tokensPerSecond: 40 },
      chatTuning: { answerPieceIntervalMs: 100, followPollIntervalMs: 50 },
    });
  });
  afterAll(() => stack.close());

  /** Reads a turn's first events and drops the connection, as a phone losing signal does. */
  async function dropAfter(userId: string, message: string, deltas: number) {
    const controller = new AbortController();
    const response = await fetch(`${stack.url}/v1/chat`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${await stack.token(userId)}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ message }),
      signal: controller.signal,
    });
    const seen: SseEvent[] = [];
    let lastId = '';
    const body = response.body!.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    while (seen.filter((event) => event.event === 'delta').length < deltas) {
      const { value } = await body.read();
      buffer += decoder.decode(value, { stream: true });
      for (let end = buffer.indexOf('\n\n'); end !== -1; end = buffer.indexOf('\n\n')) {
        const frame = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        lastId = /^id: (.+)$/m.exec(frame)?.[1] ?? lastId;
        const event = /^event: (.+)$/m.exec(frame)?.[1];
        const data = /^data: (.+)$/m.exec(frame)?.[1];
        if (event && data) seen.push({ event, data: JSON.parse(data) });
      }
    }
    controller.abort();
    return { seen, lastId, conversationId: String(seen[0]!.data.conversationId) };
  }

  it('gives a client that dropped after the first words the rest, identical to what was stored', async () => {
    const first = await dropAfter('phone', `Tell me a story ${directive('tokens=60')}`, 3);

    const rest = await collectSse(
      await fetch(
        `${stack.url}/v1/conversations/${first.conversationId}/stream?after=${first.lastId}`,
        { headers: { authorization: `Bearer ${await stack.token('phone')}` } },
      ),
    );

    expect(rest[0]).toMatchObject({
      event: 'start',
      data: { conversationId: first.conversationId },
    });
    expect(rest.at(-1)).toMatchObject({ event: 'done', data: { stopReason: 'end_turn' } });
    const whole = answerText(first.seen) + answerText(rest);
    const stored = await json(
      await stack.request('phone', 'GET', `/v1/conversations/${first.conversationId}`),
    );
    expect(whole).toBe(stored.messages.at(-1).content);
    expect(whole.trim().split(/\s+/)).toHaveLength(60);
  });

  it('gives a client that dropped just before its answer ended the rest and the end, not a 204', async () => {
    const first = await dropAfter('tunnel', `A short story ${directive('tokens=12')}`, 2);
    await waitUntilIdle('tunnel', first.conversationId);

    const response = await fetch(`${stack.url}/v1/conversations/${first.conversationId}/stream`, {
      headers: {
        authorization: `Bearer ${await stack.token('tunnel')}`,
        'last-event-id': first.lastId,
      },
    });

    expect(response.status).toBe(200);
    const rest = await collectSse(response);
    expect(rest[0]).toMatchObject({
      event: 'start',
      data: { messageId: first.lastId.split(':')[0] },
    });
    expect(rest.at(-1)).toMatchObject({ event: 'done', data: { stopReason: 'end_turn' } });
    const stored = await json(
      await stack.request('tunnel', 'GET', `/v1/conversations/${first.conversationId}`),
    );
    expect(answerText(first.seen) + answerText(rest)).toBe(stored.messages.at(-1).content);
    // An EventSource reconnects once the stream ends: with the end's own id, 204 stops it.
    const again = await fetch(`${stack.url}/v1/conversations/${first.conversationId}/stream`, {
      headers: {
        authorization: `Bearer ${await stack.token('tunnel')}`,
        'last-event-id': rest.at(-1)!.id!,
      },
    });
    expect(again.status).toBe(204);
  });

  it('gives a client that has every word of its answer but not its end the end, its cost with it', async () => {
    const first = await dropAfter('lift', `A tiny story ${directive('tokens=6')}`, 1);
    await waitUntilIdle('lift', first.conversationId);
    const stored = await json(
      await stack.request('lift', 'GET', `/v1/conversations/${first.conversationId}`),
    );
    const answer = stored.messages.at(-1);

    const rest = await collectSse(
      await fetch(`${stack.url}/v1/conversations/${first.conversationId}/stream`, {
        headers: {
          authorization: `Bearer ${await stack.token('lift')}`,
          'last-event-id': `${answer.id}:${answer.content.length}`,
        },
      }),
    );

    expect(rest.map((event) => event.event)).toEqual(['start', 'done']);
    expect(rest[1]).toMatchObject({
      id: `${answer.id}:end`,
      data: { messageId: answer.id, stopReason: 'end_turn', costUsd: answer.costUsd },
    });
  });

  it('honours Last-Event-ID, as an EventSource sends it on reconnecting', async () => {
    const first = await dropAfter('reloader', `Another story ${directive('tokens=40')}`, 2);

    const rest = await collectSse(
      await fetch(`${stack.url}/v1/conversations/${first.conversationId}/stream`, {
        headers: {
          authorization: `Bearer ${await stack.token('reloader')}`,
          'last-event-id': first.lastId,
        },
      }),
    );

    const stored = await json(
      await stack.request('reloader', 'GET', `/v1/conversations/${first.conversationId}`),
    );
    expect(answerText(first.seen) + answerText(rest)).toBe(stored.messages.at(-1).content);
  });

  it('follows the live turn: new text arrives while the original stream is still going', async () => {
    const response = await stack.chat('watcher', { message: `Slowly ${directive('tokens=40')}` });
    const original = readSse(response);
    const start = (await original.next()).value!;
    const conversationId = String(start.data.conversationId);

    const follower = readSse(
      await stack.request('watcher', 'GET', `/v1/conversations/${conversationId}/stream`),
    );
    const followed: SseEvent[] = [];
    for await (const event of follower) {
      followed.push(event);
      if (event.event === 'done') break;
    }
    const rest: SseEvent[] = [];
    for await (const event of original) rest.push(event);

    expect(followed.filter((event) => event.event === 'delta').length).toBeGreaterThan(1);
    expect(answerText(followed)).toBe(answerText(rest));
  });

  it('ends a resumed answer that failed mid-stream with an error, as its own stream ended (it said done)', async () => {
    const first = await dropAfter(
      'unlucky',
      `A story ${directive('fault=error-mid after=10 tokens=40')}`,
      2,
    );

    const rest = await collectSse(
      await stack.request(
        'unlucky',
        'GET',
        `/v1/conversations/${first.conversationId}/stream?after=${first.lastId}`,
      ),
    );

    // The local Claude's mid-stream error is an overload: told again so, not a generic failure.
    expect(rest.at(-1)).toMatchObject({
      event: 'error',
      data: { error: { type: 'overloaded_error' }, retryable: true },
    });
    expect(rest.some((event) => event.event === 'done')).toBe(false);
    const stored = await json(
      await stack.request('unlucky', 'GET', `/v1/conversations/${first.conversationId}`),
    );
    expect(stored.messages.at(-1)).toMatchObject({ stopReason: 'error' });
    const spent = await json(await stack.request('unlucky', 'GET', '/v1/usage'));
    expect(rest.at(-1)?.data).toMatchObject({
      messageId: stored.messages.at(-1).id,
      costUsd: spent.costUsd,
    });
    expect(spent.costUsd).toBeGreaterThan(0);
    expect(answerText(first.seen) + answerText(rest)).toBe(stored.messages.at(-1).content);
  });

  it('answers 204 when no turn is streaming, 404 for a conversation that is not the caller’s', async () => {
    const done = await collectSse(await stack.chat('idle', { message: 'quick' }));
    const conversationId = String(done[0]!.data.conversationId);

    const idle = await stack.request('idle', 'GET', `/v1/conversations/${conversationId}/stream`);
    const other = await stack.request('other', 'GET', `/v1/conversations/${conversationId}/stream`);

    expect(idle.status).toBe(204);
    expect(other.status).toBe(404);
  });

  it('puts an id on every event of the chat stream: the answer and its offset so far, then its end', async () => {
    const response = await stack.chat('ids', { message: `ids ${directive('tokens=5')}` });
    const text = await response.text();

    const frames = text.split('\n\n').filter((frame) => frame.includes('event:'));
    const ids = frames.map((frame) => /^id: (.+)$/m.exec(frame)?.[1]);
    const deltas = frames.map((frame) =>
      frame.includes('event: delta') ? JSON.parse(/^data: (.+)$/m.exec(frame)![1]!).text : '',
    );
    const messageId = JSON.parse(/^data: (.+)$/m.exec(frames[0]!)![1]!).messageId;
    const offsets = deltas.map((_, index) => deltas.slice(0, index + 1).join('').length);
    expect(ids.slice(0, -1)).toEqual(
      offsets.slice(0, -1).map((offset) => `${messageId}:${offset}`),
    );
    expect(frames.at(-1)).toContain('event: done');
    expect(ids.at(-1)).toBe(`${messageId}:end`);
  });

  it('sends the answer streaming now whole to a client whose answer ended, not its tail', async () => {
    const first = await dropAfter('two-tabs', `First ${directive('tokens=8')}`, 4);
    const { conversationId } = first;
    await waitUntilIdle('two-tabs', conversationId);
    // Another tab asks again; this one comes back with the id of the first answer.
    const second = readSse(
      await stack.chat('two-tabs', {
        conversationId,
        message: `Second ${directive('tokens=40')}`,
      }),
    );
    const secondStart = (await second.next()).value!;

    const rest = await collectSse(
      await fetch(`${stack.url}/v1/conversations/${conversationId}/stream`, {
        headers: {
          authorization: `Bearer ${await stack.token('two-tabs')}`,
          'last-event-id': first.lastId,
        },
      }),
    );
    for await (const _ of second);

    expect(first.lastId).toMatch(/^msg_[a-f0-9]{32}:[1-9]\d*$/);
    expect(rest[0]).toMatchObject({
      event: 'start',
      data: { messageId: secondStart.data.messageId },
    });
    const stored = await json(
      await stack.request('two-tabs', 'GET', `/v1/conversations/${conversationId}`),
    );
    expect(answerText(rest)).toBe(stored.messages.at(-1).content);
  });

  it('refuses an ?after= that is not one of its event ids with a 400', async () => {
    const done = await collectSse(await stack.chat('bad-after', { message: 'quick' }));
    const conversationId = String(done[0]!.data.conversationId);

    for (const after of ['-1', 'msg_x:3', '1e3', `msg_${'a'.repeat(32)}:`]) {
      const response = await stack.request(
        'bad-after',
        'GET',
        `/v1/conversations/${conversationId}/stream?after=${encodeURIComponent(after)}`,
      );
      expect(response.status, after).toBe(400);
      expect((await json(response)).error.type).toBe('invalid_request_error');
    }
  });

  async function waitUntilIdle(userId: string, conversationId: string) {
    for (;;) {
      const conversation = await json(
        await stack.request(userId, 'GET', `/v1/conversations/${conversationId}`),
      );
      if (conversation.messages.at(-1)?.stopReason) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
});

describe('regenerating and editing over HTTP', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack();
  });
  afterAll(() => stack.close());

  it('regenerates the last answer and edits an earlier question, keeping what they replace', async () => {
    const first = await collectSse(await stack.chat('editor', { message: 'First question' }));
    const conversationId = String(first[0]!.data.conversationId);
    await collectSse(await stack.chat('editor', { message: 'Second question', conversationId }));

    const regenerated = await collectSse(
      await stack.request('editor', 'POST', `/v1/conversations/${conversationId}/regenerate`, {}),
    );
    const listed = await json(
      await stack.request('editor', 'GET', `/v1/conversations/${conversationId}`),
    );
    const second = listed.messages.find(
      (m: { content: string }) => m.content === 'Second question',
    );
    const edited = await collectSse(
      await stack.chat('editor', {
        message: 'Second question, edited',
        conversationId,
        replaces: second.id,
      }),
    );

    expect(regenerated.at(-1)?.event).toBe('done');
    const shown = await json(
      await stack.request('editor', 'GET', `/v1/conversations/${conversationId}`),
    );
    const all = await json(
      await stack.request(
        'editor',
        'GET',
        `/v1/conversations/${conversationId}?include=superseded`,
      ),
    );
    expect(shown.messages.map((m: { content: string }) => m.content)).toEqual([
      'First question',
      expect.any(String),
      'Second question, edited',
      expect.any(String),
    ]);
    expect(all.messages).toHaveLength(7);
    expect(all.messages.filter((m: { superseded?: boolean }) => m.superseded)).toHaveLength(3);
    expect(edited.at(-1)?.event).toBe('done');
    const lastPrompt = stack.claude.requests.at(-1)!.body as {
      messages: Array<{ content: Array<{ text: string }> }>;
    };
    const texts = lastPrompt.messages.map((m) => m.content.map((b) => b.text).join(''));
    expect(texts[0]).toBe('First question');
    expect(texts.at(-1)).toBe('Second question, edited');
    expect(texts).not.toContain('Second question');
  });

  it('regenerates an earlier answer by messageId, or the answer after a named question', async () => {
    const first = await collectSse(await stack.chat('rewinder', { message: 'One' }));
    const conversationId = String(first[0]!.data.conversationId);
    const firstAnswerId = String(first.at(-1)!.data.messageId);
    await collectSse(await stack.chat('rewinder', { message: 'Two', conversationId }));
    const regenerate = (messageId: string) =>
      stack.request('rewinder', 'POST', `/v1/conversations/${conversationId}/regenerate`, {
        messageId,
      });

    const again = await collectSse(await regenerate(firstAnswerId));
    const afterAnswer = await json(
      await stack.request('rewinder', 'GET', `/v1/conversations/${conversationId}`),
    );
    const question = afterAnswer.messages[0];
    await collectSse(await regenerate(question.id));
    const afterQuestion = await json(
      await stack.request('rewinder', 'GET', `/v1/conversations/${conversationId}`),
    );

    expect(again.at(-1)?.event).toBe('done');
    expect(afterAnswer.messages.map((m: { content: string }) => m.content)).toEqual([
      'One',
      answerText(again),
    ]);
    expect(afterQuestion.messages.map((m: { role: string }) => m.role)).toEqual([
      'user',
      'assistant',
    ]);
    expect(afterQuestion.messages[1].id).not.toBe(afterAnswer.messages[1].id);
    const lastPrompt = stack.claude.requests.at(-1)!.body as {
      messages: Array<{ content: Array<{ text: string }> }>;
    };
    expect(lastPrompt.messages.map((m) => m.content.map((b) => b.text).join(''))).toEqual(['One']);
    expect((await regenerate('msg_00000000000000000000000000000000')).status).toBe(404);
  });

  it('retitles the conversation when its first question is edited: the old text is not shown', async () => {
    const first = await collectSse(await stack.chat('retitler', { message: 'My PIN is 1234' }));
    const conversationId = String(first[0]!.data.conversationId);
    const listed = await json(
      await stack.request('retitler', 'GET', `/v1/conversations/${conversationId}`),
    );

    await collectSse(
      await stack.chat('retitler', {
        message: 'How do I pick a PIN?',
        conversationId,
        replaces: listed.messages[0].id,
      }),
    );

    const { conversations } = await json(
      await stack.request('retitler', 'GET', '/v1/conversations'),
    );
    expect(conversations.map((c: { title: string }) => c.title)).toEqual(['How do I pick a PIN?']);
  });

  it('answers 404 when the question to replace is not in the conversation', async () => {
    const first = await collectSse(await stack.chat('editor2', { message: 'Only question' }));
    const conversationId = String(first[0]!.data.conversationId);

    const response = await stack.chat('editor2', {
      message: 'x',
      conversationId,
      replaces: 'msg_00000000000000000000000000000000',
    });

    expect(response.status).toBe(404);
  });
});

describe('following a question refused after its turn began', () => {
  let stack: TestStack;
  let slowHolds = false;
  beforeAll(async () => {
    stack = await startTestStack({
      env: { USER_MONTHLY_BUDGET_USD: '0.01', MAX_OUTPUT_TOKENS: '200' },
      chatTuning: { followPollIntervalMs: 50 },
      // The budget's holds (the only UpdateItem calls of a turn's start) answer late, as a
      // throttled table does: the begun turn is seen by a follower before it is undone.
      observeChatDynamoDb: (client) =>
        client.middlewareStack.add(
          (next, context) => async (args) => {
            if (slowHolds && context.commandName === 'UpdateItemCommand') {
              await new Promise((resolve) => setTimeout(resolve, 1_000));
            }
            return next(args);
          },
          { step: 'initialize', name: 'slowBudgetHolds' },
        ),
    });
  });
  afterAll(() => stack.close());

  it('tells the follower the question was refused, not that the conversation was deleted', async () => {
    const first = await collectSse(await stack.chat('quinn', { message: 'Hello' }));
    const conversationId = String(first[0]!.data.conversationId);

    slowHolds = true;
    const refused = stack.chat('quinn', {
      conversationId,
      message: 'x'.repeat(20_000),
      maxTokens: 200,
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const following = await stack.request(
      'quinn',
      'GET',
      `/v1/conversations/${conversationId}/stream`,
    );
    expect((await refused).status).toBe(402);
    slowHolds = false;

    expect(following.status).toBe(200);
    const events = await collectSse(following);
    expect(events.at(-1)).toMatchObject({
      event: 'error',
      data: {
        error: {
          message: 'the question was refused before it was answered and is not in the conversation',
        },
        retryable: false,
      },
    });
    const stored = await json(
      await stack.request('quinn', 'GET', `/v1/conversations/${conversationId}`),
    );
    expect(stored.messages).toHaveLength(2);
  });
});

describe('followers of a streaming answer', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack({
      claude: { tokensPerSecond: 10 },
      env: { USER_REQUESTS_PER_MINUTE: '3' },
      chatTuning: { followPollIntervalMs: 50 },
    });
  });
  afterAll(() => stack.close());

  it("count in the caller's rate window, so one caller cannot hold functions without bound", async () => {
    await awayFromMinuteEnd();
    const answering = await stack.chat('rhea', { message: directive('tokens=40') });
    const reading = readSse(answering);
    const start = (await reading.next()).value as SseEvent;
    const conversationId = String(start.data.conversationId);
    const follow = () => stack.request('rhea', 'GET', `/v1/conversations/${conversationId}/stream`);

    const followers = [await follow(), await follow()];
    const refused = await follow();

    expect(followers.map((response) => response.status)).toEqual([200, 200]);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
    await Promise.all(followers.map(collectSse));
    for await (const _ of reading) {
      // The answer goes on to its end, its followers with it.
    }
  });
});
