import type { SoakKey } from './api-operations.js';
import type { Random } from './seeded-random.js';
import { directive, type SoakClient } from './soak-client.js';
import type { SoakLog } from './soak-log.js';

/** A running job's answer, in tokens: about 7 s at 60 tokens a second (or its `max_tokens`). */
const RUNNING_JOB_TOKENS = 400;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** What a useChat client read of one answer: its ids, its text and how it ended. */
interface UiAnswer {
  messageId: string;
  conversationId: string;
  text: string;
  stopReason: unknown;
}

function uiAnswerOf(raw: string): UiAnswer {
  const answer: UiAnswer = { messageId: '', conversationId: '', text: '', stopReason: undefined };
  for (const frame of raw.split('\n\n')) {
    if (!frame.startsWith('data: {')) continue;
    const chunk = JSON.parse(frame.slice(6)) as Record<string, unknown>;
    const metadata = chunk.messageMetadata as Record<string, unknown> | undefined;
    if (chunk.type === 'start') {
      answer.messageId = String(chunk.messageId ?? '');
      answer.conversationId = String(metadata?.conversationId ?? '');
    }
    if (chunk.type === 'text-delta') answer.text += String(chunk.delta);
    if (metadata?.stopReason !== undefined) answer.stopReason = metadata.stopReason;
  }
  return answer;
}

/**
 * The soak's operations added with running-job cancels and useChat's Stop by question: a job
 * cancelled while it runs (standard or batch), a useChat answer stopped by its question's id
 * (before its turn is recorded, while it waits for Claude's first token, or as it streams)
 * beside another chat's question of the same id, then a late stop and the chat's next question;
 * and /v1/messages calls of a principal whose budget is set to 0 mid-run.
 */
export function createCancelStopOperations(
  client: SoakClient,
  log: SoakLog,
  options: { zeroKey: SoakKey; model: string },
) {
  const { send, userInit } = client;

  async function cancelRunningJob(rand: Random, userId: string) {
    const batch = rand() < 0.3;
    const waitMs = Math.floor(rand() * 500);
    const marker = `A long report ${Math.floor(rand() * 1e9)}.`;
    const response = await send(
      'POST /v1/jobs (to cancel running)',
      '/v1/jobs',
      await userInit(userId, 'POST', {
        type: 'summarize',
        text: `${marker} ${directive(`tokens=${RUNNING_JOB_TOKENS} tps=60`)}`,
        ...(batch && { priority: 'batch' }),
      }),
    );
    const body = (await response.json()) as { jobId?: string };
    if (response.status !== 202 || !body.jobId) return;
    const { jobId } = body;
    log.jobIds.push({ userId, jobId });
    // Until it runs (a batch job: until its batch is made).
    const deadline = Date.now() + 8_000;
    for (;;) {
      const r = await send('GET /v1/jobs/{id}', `/v1/jobs/${jobId}`, await userInit(userId, 'GET'));
      const job = (await r.json()) as { status?: string; batch?: unknown };
      if (job.status === 'running' && (!batch || job.batch !== undefined)) break;
      if (Date.now() > deadline || (job.status !== 'queued' && job.status !== 'running')) return;
      await sleep(100);
    }
    await sleep(waitMs);
    const r = await send(
      'POST /v1/jobs/{id}/cancel (running)',
      `/v1/jobs/${jobId}/cancel`,
      await userInit(userId, 'POST'),
    );
    if (r.status === 202)
      log.runningCancels.push({ userId, jobId, batch, marker, outputTokens: RUNNING_JOB_TOKENS });
    if (r.status === 200) log.cancelledJobIds.add(jobId);
    await r.body?.cancel();
  }

  const uiTurn = async (userId: string, chatId: string, questionId: string, text: string) => {
    const r = await send(
      '/v1/ui/chat (stopped by question)',
      '/v1/ui/chat',
      await userInit(userId, 'POST', {
        id: chatId,
        messages: [{ id: questionId, role: 'user', parts: [{ type: 'text', text }] }],
        trigger: 'submit-message',
      }),
    );
    return r;
  };
  const uiStop = async (userId: string, chatId: string, questionId: string) => {
    const r = await send(
      'POST /v1/ui/chat/{id}/stop?messageId',
      `/v1/ui/chat/${chatId}/stop?messageId=${encodeURIComponent(questionId)}`,
      await userInit(userId, 'POST'),
    );
    await r.body?.cancel();
    return r.status;
  };
  /**
   * Checked against what is stored at the end; its chat is not given to the other operations,
   * whose turns would make this one's late stop and next question race them.
   */
  const keepShown = (userId: string, { messageId, conversationId, text }: UiAnswer) => {
    if (messageId && conversationId) log.shown.push({ userId, messageId, conversationId, text });
  };
  /** The answer of a useChat turn; undefined if the turn was refused. */
  const answerOf = async (response: Response) => {
    if (response.status !== 200) return void (await response.body?.cancel());
    return uiAnswerOf(await response.text());
  };

  async function stopUiAnswer(rand: Random, userId: string) {
    const n = Math.floor(rand() * 1e9);
    const chatId = `soak-stop-${n}`;
    const questionId = `qs-${n}`;
    const r = rand();
    const when = r < 0.3 ? 'before' : r < 0.65 ? 'waiting' : 'streaming';
    const delayMs = Math.floor(rand() * 400);
    const pace =
      // Far from their end when the stop lands, even on a loaded machine.
      when === 'streaming' ? directive('tps=30 tokens=200') : directive('ttft=3000 tokens=20');
    const question = `Stop me ${n} ${pace}`;
    // Another chat of the user's, whose question has the same id, answering as the stop lands.
    const bystander = (async () =>
      answerOf(
        await uiTurn(
          userId,
          `soak-by-${n}`,
          questionId,
          `Bystander ${n} ${directive('ttft=300 tokens=6')}`,
        ),
      ))();

    let stopStatus: number | undefined;
    let answer: UiAnswer | undefined;
    if (when === 'before') {
      stopStatus = await uiStop(userId, chatId, questionId);
      answer = await answerOf(await uiTurn(userId, chatId, questionId, question));
    } else {
      const turn = uiTurn(userId, chatId, questionId, question);
      const stopping = (async () => {
        await sleep(when === 'streaming' ? 600 + delayMs : delayMs);
        stopStatus = await uiStop(userId, chatId, questionId);
      })();
      [answer] = await Promise.all([turn.then(answerOf), stopping]);
    }
    const other = await bystander;
    if (other) {
      keepShown(userId, other);
      if (other.stopReason === 'stopped')
        log.failures.push(`useChat stop of ${chatId}/${questionId} stopped soak-by-${n}'s answer`);
    }
    if (!answer) return;
    keepShown(userId, answer);
    if (stopStatus === 202 && answer.stopReason !== 'stopped') {
      log.failures.push(
        `useChat stop (${when}) of ${chatId}/${questionId} answered 202, the answer ended ${String(answer.stopReason)}`,
      );
    }
    if (stopStatus !== 202 && stopStatus !== 409 && stopStatus !== 429) {
      log.failures.push(`useChat stop (${when}) of ${chatId}/${questionId} answered ${stopStatus}`);
    }
    // A late stop of the same question stops nothing asked after it.
    const late = await uiStop(userId, chatId, questionId);
    if (late !== 409) log.failures.push(`late useChat stop of ${chatId}/${questionId}: ${late}`);
    const next = await answerOf(
      await uiTurn(userId, chatId, `${questionId}-next`, `Next ${n} ${directive('tokens=4')}`),
    );
    if (next) {
      keepShown(userId, next);
      if (next.stopReason === 'stopped')
        log.failures.push(`the question after ${chatId}/${questionId}'s stop was stopped`);
    }
    const stored = await send(
      'GET /v1/ui/chat/{id}/messages',
      `/v1/ui/chat/${chatId}/messages`,
      await userInit(userId, 'GET'),
    );
    const { messages = [] } = (await stored.json()) as {
      messages?: Array<{ role: string; parts: Array<{ text?: string }> }>;
    };
    if (!messages.some((m) => m.role === 'user' && m.parts[0]?.text === question))
      log.failures.push(`the stopped question of ${chatId} is not kept`);
  }

  /**
   * A question of `zeroKey`, asked again and again (the response cache answers the repeats):
   * once its principal's budget is 0 (`log.zeroBudgetSince`), every call, hit or not, is refused.
   */
  async function zeroBudgetCall(rand: Random) {
    const stream = rand() < 0.5;
    const question = Math.floor(rand() * 3);
    const sentAt = Date.now();
    const response = await askAsZeroKey(stream, question);
    const raw = await response.text();
    const since = log.zeroBudgetSince;
    if (since !== undefined && sentAt > since && response.status === 200) {
      log.failures.push(
        `${options.zeroKey.principal}, its budget 0 since ${since}, was answered at ${sentAt} (x-cache ${response.headers.get('x-cache')}): ${raw.slice(0, 80)}`,
      );
    }
  }

  const askAsZeroKey = (stream: boolean, question: number) =>
    send(`/v1/messages (zero budget, ${stream ? 'stream' : 'json'})`, '/v1/messages', {
      method: 'POST',
      headers: {
        'x-api-key': options.zeroKey.key,
        'anthropic-version': '2023-06-01',
        'content-type': 'application/json',
      },
      body: JSON.stringify({
        model: options.model,
        max_tokens: 30,
        stream,
        messages: [{ role: 'user', content: `Zero question ${question}` }],
      }),
    });

  /** Each of `zeroKey`'s questions, answered once so that the cache holds it. */
  async function warmZeroKeyCache() {
    for (const stream of [false, true])
      for (const question of [0, 1, 2]) await (await askAsZeroKey(stream, question)).text();
  }

  return { cancelRunningJob, stopUiAnswer, zeroBudgetCall, warmZeroKeyCache };
}
