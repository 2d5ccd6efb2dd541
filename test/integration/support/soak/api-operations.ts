import type { Random } from './seeded-random.js';
import { directive, type SoakClient } from './soak-client.js';
import type { SoakLog } from './soak-log.js';
import { keepUiShown, readUiChunks } from './ui-stream.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** An API key the soak's /v1/messages calls use, and whose it is. */
export interface SoakKey {
  id: string;
  key: string;
  principal: string;
}

/**
 * The soak's operations on the other APIs: /v1/messages (streamed or not, with cache_control,
 * failing upstream), useChat turns (resumed, or retried), and jobs (some cancelled). Each
 * draws what it does from `rand`, in a fixed order.
 */
export function createApiOperations(
  client: SoakClient,
  log: SoakLog,
  options: { keys: readonly SoakKey[]; model: string },
) {
  const { send, userInit } = client;
  const { keys, model } = options;

  const messagesInit = (key: SoakKey, body: unknown): RequestInit => ({
    method: 'POST',
    headers: {
      'x-api-key': key.key,
      'anthropic-version': '2023-06-01',
      'content-type': 'application/json',
    },
    body: JSON.stringify(body),
  });

  async function messagesCall(rand: Random) {
    const key = keys[Math.floor(rand() * keys.length)]!;
    const stream = rand() < 0.5;
    const cached = rand() < 0.4;
    const fault =
      rand() < 0.12
        ? 'fault=error-mid after=2'
        : rand() < 0.1
          ? 'fault=drop after=2'
          : rand() < 0.08 && stream
            ? 'fault=stall after=2'
            : undefined;
    const body = {
      model,
      max_tokens: 60,
      stream,
      ...(cached && {
        system: [
          {
            type: 'text',
            text: `${'You are a careful assistant. '.repeat(200)}`,
            cache_control: { type: 'ephemeral' },
          },
        ],
      }),
      messages: [
        {
          role: 'user',
          content: `Hello ${Math.floor(rand() * 6)} ${fault ? directive(fault) : ''}`,
        },
      ],
    };
    const response = await send(
      `/v1/messages (${stream ? 'stream' : 'json'})`,
      '/v1/messages',
      messagesInit(key, body),
      fault !== undefined,
    );
    try {
      await response.text();
    } catch {
      // a dropped upstream cuts the stream: what was billed is checked at the end
    }
  }

  /**
   * The same question sent three times at once (a client's retries, a fan-out), so that the
   * response cache is written and read concurrently: every answer must carry the same text.
   */
  async function identicalMessagesCalls(rand: Random) {
    const key = keys[Math.floor(rand() * keys.length)]!;
    const stream = rand() < 0.5;
    const body = {
      model,
      max_tokens: 40,
      stream,
      messages: [{ role: 'user', content: `Same question ${Math.floor(rand() * 3)}` }],
    };
    const route = `/v1/messages (identical, ${stream ? 'stream' : 'json'})`;
    const texts = await Promise.all(
      [0, 1, 2].map(async () => {
        const response = await send(route, '/v1/messages', messagesInit(key, body));
        const raw = await response.text();
        if (response.status !== 200) return undefined;
        return stream ? streamedText(raw) : jsonText(raw);
      }),
    );
    const answered = texts.filter((t) => t !== undefined);
    if (new Set(answered).size > 1) {
      log.failures.push(
        `identical /v1/messages (${stream ? 'stream' : 'json'}) calls answered differently: ${JSON.stringify(answered)}`,
      );
    }
  }

  /** A useChat turn whose client loses the stream and resumes it, or a Retry (regenerate). */
  async function uiResumeOrRetry(rand: Random, userId: string) {
    const chatId = `soak-${Math.floor(rand() * 4)}`;
    const retry = rand() < 0.5;
    const controller = new AbortController();
    const response = await send(
      retry ? '/v1/ui/chat (regenerate)' : '/v1/ui/chat (to resume)',
      '/v1/ui/chat',
      {
        ...(await userInit(userId, 'POST', {
          id: chatId,
          messages: [
            {
              id: `q-${Math.floor(rand() * 1e9)}`,
              role: 'user',
              parts: [{ type: 'text', text: `UI slow ${directive('tps=60 tokens=30')}` }],
            },
          ],
          trigger: retry ? 'regenerate-message' : 'submit-message',
        })),
        signal: controller.signal,
      },
    );
    if (response.status !== 200) return void (await response.body?.cancel());
    const first = await readUiChunks(
      log,
      response,
      retry ? Number.POSITIVE_INFINITY : 4,
      controller,
    );
    if (retry) return keepUiShown(log, userId, first);
    const rest = await send(
      'GET /v1/ui/chat/{id}/stream',
      `/v1/ui/chat/${chatId}/stream`,
      await userInit(userId, 'GET'),
    );
    if (rest.status !== 200) return void (await rest.body?.cancel());
    // The replay replaces the message: it holds the answer from its start.
    keepUiShown(
      log,
      userId,
      await readUiChunks(log, rest, Number.POSITIVE_INFINITY, new AbortController()),
    );
  }

  async function uiChat(rand: Random, userId: string) {
    const chatId = `soak-${Math.floor(rand() * 4)}`;
    const response = await send(
      '/v1/ui/chat',
      '/v1/ui/chat',
      await userInit(userId, 'POST', {
        id: chatId,
        messages: [
          {
            id: `q-${Math.floor(rand() * 1e9)}`,
            role: 'user',
            parts: [{ type: 'text', text: `UI ${Math.floor(rand() * 1e6)}` }],
          },
        ],
        trigger: 'submit-message',
      }),
    );
    const text = await response.text();
    if (response.status !== 200) return;
    let messageId = '';
    let shownText = '';
    let conversationId = '';
    for (const frame of text.split('\n\n')) {
      if (!frame.startsWith('data: {')) continue;
      const chunk = JSON.parse(frame.slice(6)) as Record<string, unknown>;
      if (chunk.type === 'start') {
        messageId = String(chunk.messageId ?? '');
        const metadata = chunk.messageMetadata as Record<string, unknown> | undefined;
        conversationId = String(metadata?.conversationId ?? '');
      }
      if (chunk.type === 'text-delta') shownText += String(chunk.delta);
    }
    if (messageId && conversationId) {
      log.shown.push({ userId, conversationId, messageId, text: shownText });
      if (!log.conversations.get(userId)!.includes(conversationId))
        log.conversations.get(userId)!.push(conversationId);
    }
  }

  async function job(rand: Random, userId: string) {
    const response = await send(
      'POST /v1/jobs',
      '/v1/jobs',
      await userInit(userId, 'POST', {
        type: 'summarize',
        text: `A document to summarize. ${'Some sentence of it. '.repeat(20 + Math.floor(rand() * 50))}`,
      }),
    );
    const body = (await response.json()) as { jobId?: string; id?: string };
    const jobId = body.jobId ?? body.id;
    if (response.status < 300 && jobId) log.jobIds.push({ userId, jobId });
  }

  async function cancelJob(rand: Random, userId: string) {
    await job(rand, userId);
    const last = log.jobIds.at(-1);
    if (!last || last.userId !== userId) return;
    if (rand() < 0.5) await sleep(Math.floor(rand() * 300));
    const r = await send(
      'POST /v1/jobs/{id}/cancel',
      `/v1/jobs/${last.jobId}/cancel`,
      await userInit(userId, 'POST'),
    );
    // 200: cancelled while queued; 202: asked to stop while it ran, it ends cancelled too.
    if (r.status === 200 || r.status === 202) log.cancelledJobIds.add(last.jobId);
    await r.body?.cancel();
  }

  return { messagesCall, identicalMessagesCalls, uiResumeOrRetry, uiChat, job, cancelJob };
}

/** The text of a non-streamed Messages answer. */
const jsonText = (raw: string) =>
  (JSON.parse(raw) as { content: Array<{ type: string; text?: string }> }).content
    .map((block) => block.text ?? '')
    .join('');

/**
 * The text a streamed Messages answer's deltas carried, if it ended (`message_stop`): a stream
 * cut short (its idle watchdog, on a loaded machine) ends with an `error` event instead.
 */
function streamedText(raw: string): string | undefined {
  const events = raw
    .split('\n')
    .filter((line) => line.startsWith('data: {'))
    .map((line) => JSON.parse(line.slice(6)) as { type: string; delta?: { text?: string } });
  if (events.at(-1)?.type !== 'message_stop') return undefined;
  return events.map((event) => event.delta?.text ?? '').join('');
}
