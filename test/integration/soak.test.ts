import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { monthOf } from '../../shared/domain/budget.js';
import { createApiKey } from './support/api-keys.js';
import { JOB_ENDS } from './support/jobs.js';
import { capturePublishedMetrics } from './support/published-metrics.js';
import { readSse } from './support/sse.js';
import { startTestStack, type TestStack } from './support/test-stack.js';

/**
 * A seeded soak: many users, two API keys, and every kind of call interleaved (turns, stops,
 * resumes, regenerates, edits, deletes mid-answer, /v1/messages, useChat, jobs, compactions,
 * injected upstream failures, a budget lowered mid-run, maintenance every few seconds); then,
 * quiesced, the invariants that must hold whatever the interleaving. SOAK_OPERATIONS,
 * SOAK_WORKERS and SOAK_SEED run it longer, wider or otherwise by hand.
 */
const OPERATIONS = Number(process.env.SOAK_OPERATIONS ?? 200);
const SEED = Number(process.env.SOAK_SEED ?? 20261202);
const WORKERS = Number(process.env.SOAK_WORKERS ?? 8);
const USERS = ['ada', 'bo', 'cy', 'di', 'ed'];
/** Its budget is lowered mid-run, so that some of its calls are refused. */
const LOWERED = 'di';
const MODEL = 'claude-sonnet-4-6';

function mulberry32(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Answered {
  route: string;
  status: number;
  body?: string;
  /** An upstream failure was asked for: a 5xx passed on is the spec's. */
  faulted: boolean;
}

interface Shown {
  userId: string;
  conversationId: string;
  messageId: string;
  text: string;
}

const directive = (text: string) => `[[local-claude: ${text}]]`;
/** A fault fires for the first request carrying it only. */
const once = (rand: () => number) => `times=1 key=k${Math.floor(rand() * 1e9)}`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('a seeded soak of mixed operations', () => {
  let stack: TestStack;
  const published: Array<Record<string, unknown>> = [];
  let stopCapture: () => void;
  const answered: Answered[] = [];
  const shown: Shown[] = [];
  const conversations = new Map<string, string[]>(USERS.map((u) => [u, []]));
  const deleted = new Set<string>();
  const jobIds: Array<{ userId: string; jobId: string }> = [];
  const keys: Array<{ id: string; key: string; principal: string }> = [];
  const failures: string[] = [];

  beforeAll(async () => {
    stopCapture = capturePublishedMetrics(published);
    stack = await startTestStack({
      worker: true,
      env: {
        COMPACTION_THRESHOLD_TOKENS: '250',
        JOB_RETRY_BASE_SECONDS: '1',
        // Stalled streams are cut soon.
        STREAM_IDLE_TIMEOUT_MS: '1000',
        // Repeated questions are replayed from the response cache.
        RESPONSE_CACHE_TTL_SECONDS: '3600',
        MESSAGES_STREAM_IDLE_TIMEOUT_MS: '1500',
      },
      chatTuning: {
        answerPieceIntervalMs: 100,
        followPollIntervalMs: 50,
        stopPollIntervalMs: 50,
        pingIntervalMs: 1_000,
      },
      maintenanceEveryMs: 2_000,
      // A compaction whose conversation kept changing is retried by SQS: soon, here.
      queue: { visibilityTimeoutSeconds: 10 },
      workerTimeoutMs: 9_000,
    });
    keys.push({
      ...(await createApiKey(stack, { principal: 'svc-a', monthlyBudgetUsd: 5 })),
      principal: 'svc-a',
    });
    keys.push({
      ...(await createApiKey(stack, { principal: 'svc-b', monthlyBudgetUsd: 0.004 })),
      principal: 'svc-b',
    });
  }, 60_000);
  afterAll(async () => {
    stopCapture();
    await stack.close();
  });

  async function send(
    route: string,
    url: string,
    init: RequestInit,
    faulted = false,
  ): Promise<Response> {
    const response = await fetch(`${stack.url}${url}`, init);
    const entry: Answered = { route, status: response.status, faulted };
    answered.push(entry);
    if (response.status >= 500) entry.body = await response.clone().text();
    return response;
  }

  const userInit = async (userId: string, method: string, body?: unknown, extra = {}) => ({
    method,
    headers: {
      authorization: `Bearer ${await stack.token(userId)}`,
      ...(body !== undefined && { 'content-type': 'application/json' }),
      ...extra,
    },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });

  /**
   * Reads a chat stream; `cut` decides after each event whether to stop reading (and how). The
   * text shown is what the deltas carried, kept with the answer's id.
   */
  async function readChat(
    userId: string,
    response: Response,
    controller: AbortController,
    onEvent?: (
      event: { event: string; data: Record<string, unknown>; id?: string },
      deltas: number,
    ) => Promise<'go' | 'drop'>,
    keepShown = true,
  ) {
    let conversationId = '';
    let messageId = '';
    let text = '';
    let lastId = '';
    let deltas = 0;
    let ended = '';
    try {
      for await (const event of readSse(response)) {
        if (event.id) lastId = event.id;
        if (event.event === 'start') {
          conversationId = String(event.data.conversationId);
          messageId = String(event.data.messageId);
        }
        if (event.event === 'delta') {
          text += String(event.data.text);
          deltas++;
        }
        if (event.event === 'done' || event.event === 'error') ended = event.event;
        if (onEvent && (await onEvent(event, deltas)) === 'drop') {
          controller.abort();
          break;
        }
      }
    } catch (error) {
      if (!controller.signal.aborted) failures.push(`${userId} stream broke: ${String(error)}`);
    }
    if (messageId && keepShown) shown.push({ userId, conversationId, messageId, text });
    if (conversationId && !conversations.get(userId)!.includes(conversationId)) {
      conversations.get(userId)!.push(conversationId);
    }
    return { conversationId, messageId, text, lastId, ended };
  }

  async function chatTurn(
    rand: () => number,
    userId: string,
    options: {
      fault?: string;
      slow?: boolean;
      stop?: 'early' | 'mid' | 'late';
      resume?: boolean;
      deleteMid?: boolean;
    } = {},
  ) {
    const list = conversations.get(userId)!.filter((c) => !deleted.has(c));
    // Mostly the latest conversations: histories grow long enough to be compacted.
    const existing =
      list.length > 0 && rand() < 0.7
        ? list.at(-1 - Math.floor(rand() * rand() * list.length))
        : undefined;
    const words: string[] = [`Question ${Math.floor(rand() * 8)}`];
    if (options.slow || options.stop || options.resume || options.deleteMid)
      words.push(directive('tps=60 tokens=40'));
    if (options.stop === 'early') words.push(directive('ttft=400 tps=60 tokens=40'));
    // Once: a regenerate, or a compaction of the history, sends the question again.
    if (options.fault) words.push(directive(`${options.fault} ${once(rand)}`));
    const message = words.join(' ').replace(/\]\] \[\[local-claude: /g, ' ');
    const controller = new AbortController();
    const response = await send(
      '/v1/chat',
      '/v1/chat',
      {
        ...(await userInit(userId, 'POST', {
          message,
          ...(existing && { conversationId: existing }),
        })),
        signal: controller.signal,
      },
      options.fault !== undefined,
    );
    if (response.status !== 200) {
      await response.body?.cancel();
      return;
    }
    const stopNamesAnswer = rand() < 0.5;
    let turn = { conversationId: '', messageId: '' };
    const result = await readChat(userId, response, controller, async (event, deltas) => {
      if (event.event === 'start') {
        turn = {
          conversationId: String(event.data.conversationId),
          messageId: String(event.data.messageId),
        };
      }
      if (event.event === 'start' && options.stop === 'early') {
        await stop(userId, String(event.data.conversationId), String(event.data.messageId));
      }
      if (options.stop === 'mid' && event.event === 'delta' && deltas === 3) {
        await stop(userId, turn.conversationId, stopNamesAnswer ? turn.messageId : '');
      }
      if (options.deleteMid && event.event === 'delta' && deltas === 2) {
        const c = turn.conversationId;
        deleted.add(c);
        const r = await send(
          'DELETE /v1/conversations/{id}',
          `/v1/conversations/${c}`,
          await userInit(userId, 'DELETE'),
        );
        await r.body?.cancel();
      }
      if (options.resume && event.event === 'delta' && deltas === 4) return 'drop';
      return 'go';
    });
    if (options.stop === 'late' && result.conversationId) {
      await stop(userId, result.conversationId, result.messageId);
    }
    if (options.resume && result.conversationId && result.ended === '') {
      const follow = await send(
        'GET /v1/conversations/{id}/stream',
        `/v1/conversations/${result.conversationId}/stream`,
        await userInit(userId, 'GET', undefined, { 'last-event-id': result.lastId }),
      );
      if (follow.status === 200) {
        const rest = await readChat(userId, follow, new AbortController(), undefined, false);
        shown.push({ ...result, userId, text: result.text + rest.text });
      } else await follow.body?.cancel();
    }
  }

  async function stop(userId: string, conversationId: string, messageId: string) {
    const query = messageId ? `?messageId=${messageId}` : '';
    const r = await send(
      'POST /v1/conversations/{id}/stop',
      `/v1/conversations/${conversationId}/stop${query}`,
      await userInit(userId, 'POST'),
    );
    await r.body?.cancel();
  }

  async function regenerateOrEdit(rand: () => number, userId: string) {
    const list = conversations.get(userId)!.filter((c) => !deleted.has(c));
    if (list.length === 0) return chatTurn(rand, userId);
    const conversationId = list[Math.floor(rand() * list.length)]!;
    const controller = new AbortController();
    if (rand() < 0.5) {
      const then = rand();
      const response = await send(
        'POST /v1/conversations/{id}/regenerate',
        `/v1/conversations/${conversationId}/regenerate`,
        { ...(await userInit(userId, 'POST', {})), signal: controller.signal },
      );
      if (response.status !== 200) return void (await response.body?.cancel());
      await readChat(userId, response, controller, async (event, deltas) => {
        if (event.event !== 'delta' || deltas !== 2) return 'go';
        if (then < 0.25) await stop(userId, conversationId, '');
        else if (then < 0.4) {
          deleted.add(conversationId);
          const r = await send(
            'DELETE /v1/conversations/{id}',
            `/v1/conversations/${conversationId}`,
            await userInit(userId, 'DELETE'),
          );
          await r.body?.cancel();
        }
        return 'go';
      });
      return;
    }
    const history = await send(
      'GET /v1/conversations/{id}',
      `/v1/conversations/${conversationId}?limit=100`,
      await userInit(userId, 'GET'),
    );
    if (history.status !== 200) return void (await history.body?.cancel());
    const questions = (
      (await history.json()) as { messages: Array<{ id: string; role: string }> }
    ).messages.filter((m) => m.role === 'user');
    const replaced = questions[Math.floor(rand() * questions.length)];
    if (!replaced) return;
    const response = await send('/v1/chat (edit)', '/v1/chat', {
      ...(await userInit(userId, 'POST', {
        message: `Edited ${Math.floor(rand() * 1e6)}`,
        conversationId,
        replaces: replaced.id,
      })),
      signal: controller.signal,
    });
    if (response.status === 200) await readChat(userId, response, controller);
    else await response.body?.cancel();
  }

  async function concurrentTurns(rand: () => number, userId: string) {
    const list = conversations.get(userId)!.filter((c) => !deleted.has(c));
    const conversationId =
      list.length > 0 && rand() < 0.7 ? list[Math.floor(rand() * list.length)] : undefined;
    await Promise.all(
      [0, 1].map(async (i) => {
        const controller = new AbortController();
        const response = await send('/v1/chat (concurrent)', '/v1/chat', {
          ...(await userInit(userId, 'POST', {
            message: `Together ${i} ${directive('tps=80 tokens=20')}`,
            ...(conversationId && { conversationId }),
          })),
          signal: controller.signal,
        });
        if (response.status === 200) await readChat(userId, response, controller);
        else await response.body?.cancel();
      }),
    );
  }

  async function messagesCall(rand: () => number) {
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
      model: MODEL,
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
      {
        method: 'POST',
        headers: {
          'x-api-key': key.key,
          'anthropic-version': '2023-06-01',
          'content-type': 'application/json',
        },
        body: JSON.stringify(body),
      },
      fault !== undefined,
    );
    try {
      await response.text();
    } catch {
      // a dropped upstream cuts the stream: what was billed is checked at the end
    }
  }

  /** A useChat turn whose client loses the stream and resumes it, or a Retry (regenerate). */
  async function uiResumeOrRetry(rand: () => number, userId: string) {
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
    const first = await readUiChunks(response, retry ? Number.POSITIVE_INFINITY : 4, controller);
    if (retry) return keepUiShown(userId, first);
    const rest = await send(
      'GET /v1/ui/chat/{id}/stream',
      `/v1/ui/chat/${chatId}/stream`,
      await userInit(userId, 'GET'),
    );
    if (rest.status !== 200) return void (await rest.body?.cancel());
    // The replay replaces the message: it holds the answer from its start.
    keepUiShown(userId, await readUiChunks(rest, Number.POSITIVE_INFINITY, new AbortController()));
  }

  async function readUiChunks(response: Response, deltas: number, controller: AbortController) {
    const seen = { messageId: '', conversationId: '', text: '' };
    let count = 0;
    let buffer = '';
    const decoder = new TextDecoder();
    try {
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        for (let end = buffer.indexOf('\n\n'); end !== -1; end = buffer.indexOf('\n\n')) {
          const frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          if (!frame.startsWith('data: {')) continue;
          const part = JSON.parse(frame.slice(6)) as Record<string, unknown>;
          if (part.type === 'start') {
            seen.messageId = String(part.messageId ?? '');
            const metadata = part.messageMetadata as Record<string, unknown> | undefined;
            seen.conversationId = String(metadata?.conversationId ?? '');
          }
          if (part.type === 'text-delta') {
            seen.text += String(part.delta);
            count++;
          }
        }
        if (count >= deltas) {
          controller.abort();
          break;
        }
      }
    } catch (error) {
      if (!controller.signal.aborted) failures.push(`useChat stream broke: ${String(error)}`);
    }
    return seen;
  }

  function keepUiShown(
    userId: string,
    seen: { messageId: string; conversationId: string; text: string },
  ) {
    if (!seen.messageId || !seen.conversationId) return;
    shown.push({ userId, ...seen });
    const list = conversations.get(userId)!;
    if (!list.includes(seen.conversationId)) list.push(seen.conversationId);
  }

  /** A stop, and at once the next question in the same conversation. */
  async function stopThenAsk(rand: () => number, userId: string) {
    const controller = new AbortController();
    const response = await send('/v1/chat', '/v1/chat', {
      ...(await userInit(userId, 'POST', { message: `Long ${directive('tps=60 tokens=40')}` })),
      signal: controller.signal,
    });
    if (response.status !== 200) return void (await response.body?.cancel());
    let next: Promise<unknown> | undefined;
    let conversationId = '';
    await readChat(userId, response, controller, async (event, deltas) => {
      if (event.event === 'start') conversationId = String(event.data.conversationId);
      if (event.event === 'delta' && deltas === 2 && !next) {
        await stop(userId, conversationId, '');
        next = (async () => {
          const c = new AbortController();
          const r = await send('/v1/chat (after stop)', '/v1/chat', {
            ...(await userInit(userId, 'POST', {
              message: `Next ${Math.floor(rand() * 1e6)}`,
              conversationId,
            })),
            signal: c.signal,
          });
          if (r.status === 200) await readChat(userId, r, c);
          else await r.body?.cancel();
        })();
      }
      return 'go';
    });
    await next;
  }

  async function cancelJob(rand: () => number, userId: string) {
    await job(rand, userId);
    const last = jobIds.at(-1);
    if (!last || last.userId !== userId) return;
    if (rand() < 0.5) await sleep(Math.floor(rand() * 300));
    const r = await send(
      'POST /v1/jobs/{id}/cancel',
      `/v1/jobs/${last.jobId}/cancel`,
      await userInit(userId, 'POST'),
    );
    await r.body?.cancel();
  }

  async function uiChat(rand: () => number, userId: string) {
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
      shown.push({ userId, conversationId, messageId, text: shownText });
      if (!conversations.get(userId)!.includes(conversationId))
        conversations.get(userId)!.push(conversationId);
    }
  }

  async function job(rand: () => number, userId: string) {
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
    if (response.status < 300 && jobId) jobIds.push({ userId, jobId });
  }

  async function deleteConversation(rand: () => number, userId: string) {
    const list = conversations.get(userId)!.filter((c) => !deleted.has(c));
    if (list.length === 0) return;
    const conversationId = list[Math.floor(rand() * list.length)]!;
    deleted.add(conversationId);
    const r = await send(
      'DELETE /v1/conversations/{id}',
      `/v1/conversations/${conversationId}`,
      await userInit(userId, 'DELETE'),
    );
    await r.body?.cancel();
  }

  async function operation(rand: () => number) {
    const userId = USERS[Math.floor(rand() * USERS.length)]!;
    const pick = rand();
    if (pick < 0.25) return chatTurn(rand, userId);
    if (pick < 0.3) return chatTurn(rand, userId, { stop: 'early' });
    if (pick < 0.36) return chatTurn(rand, userId, { stop: 'mid' });
    if (pick < 0.39) return chatTurn(rand, userId, { stop: 'late' });
    if (pick < 0.45) return chatTurn(rand, userId, { resume: true });
    if (pick < 0.48) return chatTurn(rand, userId, { deleteMid: true });
    if (pick < 0.52) return chatTurn(rand, userId, { fault: 'fault=error-mid after=3' });
    if (pick < 0.54) return chatTurn(rand, userId, { fault: 'fault=drop after=2' });
    if (pick < 0.555) return chatTurn(rand, userId, { fault: 'fault=stall after=3' });
    if (pick < 0.56)
      return chatTurn(rand, userId, { fault: 'fault=error-before status=529 should-retry=false' });
    if (pick < 0.63) return regenerateOrEdit(rand, userId);
    if (pick < 0.68) return concurrentTurns(rand, userId);
    if (pick < 0.8) return messagesCall(rand);
    if (pick < 0.87) return uiChat(rand, userId);
    if (pick < 0.93) return job(rand, userId);
    if (pick < 0.95) return deleteConversation(rand, userId);
    if (pick < 0.965) return uiResumeOrRetry(rand, userId);
    if (pick < 0.975) return stopThenAsk(rand, userId);
    if (pick < 0.985) return cancelJob(rand, userId);
    return chatTurn(rand, userId, { slow: true });
  }

  it('keeps every invariant after the traffic is quiesced', async () => {
    const startedAt = Date.now();
    const perWorker = Math.ceil(OPERATIONS / WORKERS);
    let done = 0;
    await Promise.all(
      Array.from({ length: WORKERS }, async (_, w) => {
        const rand = mulberry32(SEED + w);
        for (let i = 0; i < perWorker; i++) {
          try {
            await operation(rand);
          } catch (error) {
            failures.push(`worker ${w} op ${i}: ${String((error as Error).stack ?? error)}`);
          }
          done++;
          if (done === Math.floor(OPERATIONS / 2)) {
            const r = await send(
              'PUT /v1/admin/principals/{p}/budget',
              `/v1/admin/principals/${LOWERED}/budget`,
              await userInit(
                'operator',
                'PUT',
                { monthlyBudgetUsd: 0.00001 },
                {
                  authorization: `Bearer ${await stack.token('operator', { admin: true })}`,
                },
              ),
            );
            await r.body?.cancel();
            // And the large key's budget cut to what it has spent, about.
            const k = await send('PATCH /v1/admin/keys/{id}', `/v1/admin/keys/${keys[0]!.id}`, {
              method: 'PATCH',
              headers: {
                authorization: `Bearer ${await stack.token('operator', { admin: true })}`,
                'content-type': 'application/json',
              },
              body: JSON.stringify({ monthlyBudgetUsd: 0.01 }),
            });
            await k.body?.cancel();
          }
        }
      }),
    );
    const trafficEndedAt = Date.now();
    // Quiesce: every job ends, the worker's compactions too, then a last maintenance run.
    const deadline = Date.now() + 60_000;
    for (;;) {
      const jobs = await scanAll((i) => typeof i.sk === 'string' && i.sk === 'JOB');
      if (jobs.every((j) => JOB_ENDS.includes(String(j.status))) || Date.now() > deadline) break;
      await sleep(500);
    }
    await sleep(1_000);
    await stack.sweep();
    console.info(
      `traffic ${trafficEndedAt - startedAt} ms, quiesced in ${Date.now() - trafficEndedAt} ms`,
    );

    const items = await scanAll(() => true);
    const month = monthOf(Date.now());
    const report: string[] = [...failures];

    // (a) nothing held, nothing in flight
    for (const item of items) {
      const holds = Object.keys(item).filter((k) => k.startsWith('hold_'));
      if (holds.length > 0) report.push(`holds left on ${item.pk}/${item.sk}: ${holds.join(',')}`);
      if (String(item.pk).startsWith('RESV#'))
        report.push(`reservation entry left: ${JSON.stringify(item)}`);
      if (item.sk === 'META' && item.activeTurnId) report.push(`turn in flight on ${item.pk}`);
      if (String(item.sk).startsWith('USAGE#') && item.heldNanoUsd !== item.spentNanoUsd) {
        report.push(`${item.pk}/${item.sk} held ${item.heldNanoUsd} ≠ spent ${item.spentNanoUsd}`);
      }
    }
    // (b) ledger = usage records
    const records = items.filter(
      (i) => /^USER#.+#REQS#/.test(String(i.pk)) && String(i.pk).endsWith(month),
    );
    const sumBy = (pick: (r: Record<string, unknown>) => string | undefined) => {
      const sums = new Map<string, number>();
      for (const r of records) {
        const k = pick(r);
        if (k !== undefined) sums.set(k, (sums.get(k) ?? 0) + Number(r.costNanoUsd));
      }
      return sums;
    };
    const byPrincipal = sumBy((r) => String(r.principal));
    const byKey = sumBy((r) => (r.keyId === undefined ? undefined : String(r.keyId)));
    for (const item of items.filter((i) => i.sk === `USAGE#${month}`)) {
      const pk = String(item.pk);
      const spent = Number(item.spentNanoUsd ?? 0);
      const expected = pk.startsWith('USER#')
        ? (byPrincipal.get(pk.slice(5)) ?? 0)
        : pk.startsWith('APIKEY#')
          ? (byKey.get(pk.slice(7)) ?? 0)
          : undefined;
      if (expected !== undefined && expected !== spent) {
        report.push(`${pk} ledger spent ${spent} ≠ records ${expected}`);
      }
    }
    const monthItems = new Set(
      items.filter((i) => i.sk === `USAGE#${month}`).map((i) => String(i.pk)),
    );
    for (const [principal, cost] of byPrincipal) {
      if (cost > 0 && !monthItems.has(`USER#${principal}`))
        report.push(`${principal}: records, no ledger`);
    }
    for (const [keyId, cost] of byKey) {
      if (cost > 0 && !monthItems.has(`APIKEY#${keyId}`))
        report.push(`key ${keyId}: records, no ledger`);
    }
    const shards = items.filter((i) => String(i.pk).startsWith(`GLOBAL#USAGE#${month}#`));
    const deploymentSpent = shards.reduce((s, i) => s + Number(i.spentNanoUsd ?? 0), 0);
    const recordsTotal = records.reduce((s, r) => s + Number(r.costNanoUsd), 0);
    if (deploymentSpent !== recordsTotal) {
      report.push(`deployment shards spent ${deploymentSpent} ≠ records ${recordsTotal}`);
    }
    // (c) CostUsd
    // A function that made several calls in one invocation publishes them as one list.
    const costsOf = (line: Record<string, unknown>) => [line.CostUsd ?? []].flat().map(Number);
    const costUsd = published.reduce((s, l) => s + costsOf(l).reduce((a, b) => a + b, 0), 0);
    if (Math.abs(costUsd - deploymentSpent / 1e9) > 1e-9) {
      const byApi = new Map<string, number>();
      for (const r of records)
        byApi.set(String(r.api), (byApi.get(String(r.api)) ?? 0) + Number(r.costNanoUsd));
      const byService = new Map<string, number>();
      for (const l of published) {
        const k = String(l.service);
        byService.set(k, (byService.get(k) ?? 0) + costsOf(l).reduce((a, b) => a + b, 0));
      }
      report.push(
        `CostUsd ${costUsd} ≠ deployment spent ${deploymentSpent / 1e9} (records by api ${JSON.stringify([...byApi])}, metric by service ${JSON.stringify([...byService])})`,
      );
    }
    // (d) histories
    const messagesOf = new Map<string, Array<Record<string, unknown>>>();
    for (const item of items.filter((i) => String(i.sk).startsWith('MSG#'))) {
      const list = messagesOf.get(String(item.pk)) ?? [];
      list.push(item);
      messagesOf.set(String(item.pk), list);
    }
    const metas = items.filter((i) => i.sk === 'META' && String(i.pk).includes('#CONV#'));
    for (const meta of metas) {
      const list = (messagesOf.get(String(meta.pk)) ?? []).sort(
        (x, y) => Number(x.seq) - Number(y.seq),
      );
      const ids = list.map((m) => String(m.id));
      if (new Set(ids).size !== ids.length) report.push(`duplicate message ids in ${meta.pk}`);
      list.forEach((m, i) => {
        if (m.role === 'user' && list[i + 1]?.role !== 'assistant') {
          report.push(`question ${m.id} (seq ${m.seq}) of ${meta.pk} without its answer`);
        }
      });
    }
    const storedById = new Map(
      items.filter((i) => String(i.sk).startsWith('MSG#')).map((m) => [String(m.id), m]),
    );
    for (const s of shown) {
      if (deleted.has(s.conversationId)) continue;
      const stored = storedById.get(s.messageId);
      if (!stored) {
        report.push(
          `answer ${s.messageId} of ${s.userId}/${s.conversationId} shown ${JSON.stringify(s.text.slice(0, 40))} not stored`,
        );
      } else if (!String(stored.content).startsWith(s.text)) {
        report.push(
          `answer ${s.messageId} shown ${JSON.stringify(s.text)} is not a prefix of stored ${JSON.stringify(stored.content)} (${stored.stopReason})`,
        );
      }
    }
    // (e) no 5xx but where an upstream failure was asked for
    for (const a of answered.filter((x) => x.status >= 500 && !x.faulted)) {
      report.push(`${a.status} on ${a.route}: ${a.body}`);
    }
    // (f) jobs ended, each billed once
    for (const j of items.filter((i) => i.sk === 'JOB')) {
      if (!['succeeded', 'failed', 'cancelled'].includes(String(j.status))) {
        report.push(
          `job ${j.jobId} (${j.type}) ${j.status} after ${j.attempts} attempts: ${JSON.stringify(j.error)}`,
        );
      }
      const billed = records
        .filter((r) => String(r.requestId).startsWith(`${j.jobId}:`))
        .reduce((s, r) => s + Number(r.costNanoUsd), 0);
      if (billed !== Number(j.costNanoUsd ?? 0)) {
        report.push(
          `job ${j.jobId} (${j.type}, ${j.status}) cost ${j.costNanoUsd} ≠ records ${billed}`,
        );
      }
    }

    const statuses = new Map<string, number>();
    for (const a of answered)
      statuses.set(`${a.route} ${a.status}`, (statuses.get(`${a.route} ${a.status}`) ?? 0) + 1);
    const tally = (values: string[]) => {
      const t = new Map<string, number>();
      for (const v of values) t.set(v, (t.get(v) ?? 0) + 1);
      return JSON.stringify([...t].sort());
    };
    console.info(
      `stop reasons ${tally(items.filter((i) => i.role === 'assistant').map((i) => String(i.stopReason)))}`,
      `jobs ${tally(items.filter((i) => i.sk === 'JOB').map((i) => `${i.type}:${i.status}`))}`,
      `response cache hits ${records.filter((r) => r.cacheHit === true).length}`,
      `cache tokens ${records.reduce((n, r) => n + Number((r.usage as Record<string, number>).cacheReadInputTokens ?? 0), 0)}`,
    );
    console.info(
      [...statuses]
        .sort()
        .map(([k, v]) => `${k}: ${v}`)
        .join('\n'),
    );
    expect(report).toEqual([]);
  }, 300_000);

  async function scanAll(keep: (item: Record<string, unknown>) => boolean) {
    const items: Array<Record<string, unknown>> = [];
    let start: Record<string, unknown> | undefined;
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
});
