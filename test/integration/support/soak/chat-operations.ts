import { readChat } from './chat-stream.js';
import type { Random } from './seeded-random.js';
import { directive, type SoakClient } from './soak-client.js';
import type { SoakLog } from './soak-log.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A fault fires for the first request carrying it only. */
const once = (rand: Random) => `times=1 key=k${Math.floor(rand() * 1e9)}`;

export interface ChatTurnOptions {
  fault?: string;
  slow?: boolean;
  /** `racing`: sent at a random moment of a short answer, often as it ends. */
  stop?: 'early' | 'mid' | 'late' | 'racing';
  resume?: boolean;
  deleteMid?: boolean;
}

/**
 * The soak's operations on our chat API: turns (stopped early, mid-answer, late or racing
 * their end, resumed,
 * deleted mid-answer, failed upstream), regenerates and edits, two turns at once, a question
 * right after a stop, and deletes. Each draws what it does from `rand`, in a fixed order.
 */
export function createChatOperations(client: SoakClient, log: SoakLog) {
  const { send, userInit } = client;

  async function chatTurn(rand: Random, userId: string, options: ChatTurnOptions = {}) {
    const list = log.conversations.get(userId)!.filter((c) => !log.deleted.has(c));
    // Mostly the latest conversations: histories grow long enough to be compacted.
    const existing =
      list.length > 0 && rand() < 0.7
        ? list.at(-1 - Math.floor(rand() * rand() * list.length))
        : undefined;
    const words: string[] = [`Question ${Math.floor(rand() * 8)}`];
    if (options.stop === 'racing') words.push(directive('tps=60 tokens=8'));
    else if (options.slow || options.stop || options.resume || options.deleteMid)
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
    const racingDelayMs = Math.floor(rand() * 300);
    let racingStop: Promise<void> | undefined;
    let turn = { conversationId: '', messageId: '' };
    const result = await readChat(log, userId, response, controller, async (event, deltas) => {
      if (event.event === 'start') {
        turn = {
          conversationId: String(event.data.conversationId),
          messageId: String(event.data.messageId),
        };
      }
      if (event.event === 'start' && options.stop === 'racing') {
        const { conversationId, messageId } = turn;
        racingStop = sleep(racingDelayMs).then(() =>
          stop(userId, conversationId, stopNamesAnswer ? messageId : ''),
        );
      }
      if (event.event === 'start' && options.stop === 'early') {
        await stop(userId, String(event.data.conversationId), String(event.data.messageId));
      }
      if (options.stop === 'mid' && event.event === 'delta' && deltas === 3) {
        await stop(userId, turn.conversationId, stopNamesAnswer ? turn.messageId : '');
      }
      if (options.deleteMid && event.event === 'delta' && deltas === 2) {
        await remove(userId, turn.conversationId);
      }
      if (options.resume && event.event === 'delta' && deltas === 4) return 'drop';
      return 'go';
    });
    await racingStop;
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
        const rest = await readChat(log, userId, follow, new AbortController(), undefined, false);
        log.shown.push({ ...result, userId, text: result.text + rest.text });
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

  async function regenerateOrEdit(rand: Random, userId: string) {
    const list = log.conversations.get(userId)!.filter((c) => !log.deleted.has(c));
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
      await readChat(log, userId, response, controller, async (event, deltas) => {
        if (event.event !== 'delta' || deltas !== 2) return 'go';
        if (then < 0.25) await stop(userId, conversationId, '');
        else if (then < 0.4) await remove(userId, conversationId);
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
    if (response.status === 200) await readChat(log, userId, response, controller);
    else await response.body?.cancel();
  }

  async function concurrentTurns(rand: Random, userId: string) {
    const list = log.conversations.get(userId)!.filter((c) => !log.deleted.has(c));
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
        if (response.status === 200) await readChat(log, userId, response, controller);
        else await response.body?.cancel();
      }),
    );
  }

  /** A stop, and at once the next question in the same conversation. */
  async function stopThenAsk(rand: Random, userId: string) {
    const controller = new AbortController();
    const response = await send('/v1/chat', '/v1/chat', {
      ...(await userInit(userId, 'POST', { message: `Long ${directive('tps=60 tokens=40')}` })),
      signal: controller.signal,
    });
    if (response.status !== 200) return void (await response.body?.cancel());
    let next: Promise<unknown> | undefined;
    let conversationId = '';
    await readChat(log, userId, response, controller, async (event, deltas) => {
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
          if (r.status === 200) await readChat(log, userId, r, c);
          else await r.body?.cancel();
        })();
      }
      return 'go';
    });
    await next;
  }

  async function deleteConversation(rand: Random, userId: string) {
    const list = log.conversations.get(userId)!.filter((c) => !log.deleted.has(c));
    if (list.length === 0) return;
    const conversationId = list[Math.floor(rand() * list.length)]!;
    await remove(userId, conversationId);
  }

  /** Deletes a conversation; what it showed is no longer checked against what is stored. */
  async function remove(userId: string, conversationId: string) {
    log.deleted.add(conversationId);
    const r = await send(
      'DELETE /v1/conversations/{id}',
      `/v1/conversations/${conversationId}`,
      await userInit(userId, 'DELETE'),
    );
    await r.body?.cancel();
  }

  return { chatTurn, stop, regenerateOrEdit, concurrentTurns, stopThenAsk, deleteConversation };
}
