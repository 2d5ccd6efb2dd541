import { signDevToken } from '../local-stack/dev-token.js';
import type { ChatChild } from './chat-child.js';
import { stackTurn, type TurnOutcome, type TurnUsage } from './chat-turns.js';
import { usageBetween } from './dynamodb-capacity.js';
import { type DynamoDbPerTurn, perTurn } from './rows.js';
import { median, runPool } from './stats.js';

/**
 * A typical turn, as the cost target defines it: about 2,000 tokens in (a conversation with
 * history) and 500 out, streamed over ~15 s. The local Claude is told so per request
 * (`tokens=500 tps=34`); the history is seeded by one earlier turn of ~5,000 characters.
 */
export const TYPICAL = { outputTokens: 500, tokensPerSecond: 34 } as const;

export interface StreamsFigures {
  /** Turns at once. */
  streams: number;
  turns: number;
  ok: number;
  durationSecondsMedian: number;
  /** Peak RSS of the chat process while the streams ran (sampled every 50 ms), bytes. */
  peakRssBytes: number;
  cpuMsPerTurn: number;
  dynamodbPerTurn: DynamoDbPerTurn;
  usage?: TurnUsage;
}

export interface TypicalTurnFigures {
  /** RSS after start-up and a full GC, before any request. */
  idleRssBytes: number;
  /** RSS after the warm-up turns and a full GC. */
  warmRssBytes: number;
  /** CPU of a short sequential turn (30 tokens): before the first token, and in all (ms, median). */
  shortTurnCpuMsBeforeFirstToken: number;
  shortTurnCpuMs: number;
  one: StreamsFigures;
  many: StreamsFigures;
}

/**
 * Measures the chat process alone: RSS and CPU for one stream at a time (what one Lambda
 * execution environment holds, as it streams one request) and for `concurrency` at once (what
 * each stream adds), with the per-turn DynamoDB capacity of the typical turn.
 */
export async function measureTypicalTurns(
  chat: ChatChild,
  options: { concurrency: number; sequential: number; log: (line: string) => void },
): Promise<TypicalTurnFigures> {
  const url = chat.urls.full;
  const token = await signDevToken('bench-typical');
  await chat.gc();
  const idleRssBytes = (await chat.snapshot()).rssBytes;

  const streams = options.concurrency + options.sequential;
  options.log(`  seeding ${streams} conversations with ~1,500 tokens of history, one at a time`);
  const seed = `${'The quick brown fox jumps over the lazy dog and keeps going. '.repeat(80)}[[local-claude: tokens=500 tps=0 ttft=0]]`;
  const conversations = await runPool(streams, 1, async () => {
    // Retried once: a refusal here would leave the measurement without its conversations.
    for (let attempt = 1; ; attempt++) {
      const first = await stackTurn({ url, token, message: seed });
      if (first.ok && first.conversationId) return first.conversationId;
      if (attempt === 2) throw new Error(`seed turn failed: ${describe(first)}`);
    }
  });

  // Short turns, one at a time: CPU before the first token (the part a smaller CPU share
  // stretches) and in all.
  const shortToken = await signDevToken('bench-typical-short');
  const before: number[] = [];
  const total: number[] = [];
  for (let i = 0; i < 30; i++) {
    const start = (await chat.snapshot()).cpuUs;
    let firstToken = start;
    const outcome = await stackTurn({
      url,
      token: shortToken,
      message: `Short turn ${i}. [[local-claude: tps=1000]]`,
      onFirstToken: async () => {
        firstToken = (await chat.snapshot()).cpuUs;
      },
    });
    const end = (await chat.snapshot()).cpuUs;
    if (i < 10 || !outcome.ok) continue; // warm-up
    before.push((firstToken - start) / 1000);
    total.push((end - start) / 1000);
  }
  await chat.gc();
  const warmRssBytes = (await chat.snapshot()).rssBytes;

  const message = `Typical turn: go on. [[local-claude: tokens=${TYPICAL.outputTokens} tps=${TYPICAL.tokensPerSecond}]]`;
  const run = async (count: number, concurrency: number, offset: number) => {
    options.log(`  ${count} typical turn(s), ${concurrency} at a time (~15 s per wave)`);
    let peak = await chat.rssBytes();
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        peak = Math.max(peak, await chat.rssBytes());
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();
    const turn = (i: number) =>
      stackTurn({ url, token, message, conversationId: conversations[offset + i] as string });
    // The first of a sequence warms the paths only long streams take (heartbeats, pieces):
    // in the peak RSS, not in the CPU and capacity per turn.
    const skipped = concurrency === 1 && count > 1 ? [await turn(0)] : [];
    const start = await chat.snapshot();
    const outcomes = await runPool(count - skipped.length, concurrency, (i) =>
      turn(skipped.length + i),
    );
    const end = await chat.snapshot();
    sampling = false;
    await sampler;
    return figures(
      [...skipped, ...outcomes],
      concurrency,
      peak,
      (end.cpuUs - start.cpuUs) / outcomes.length,
      perTurn(usageBetween(start.dynamodb, end.dynamodb), outcomes.length),
    );
  };
  const one = await run(options.sequential, 1, 0);
  const many = await run(options.concurrency, options.concurrency, options.sequential);
  return {
    idleRssBytes,
    warmRssBytes,
    shortTurnCpuMsBeforeFirstToken: median(before),
    shortTurnCpuMs: median(total),
    one,
    many,
  };
}

function figures(
  outcomes: TurnOutcome[],
  streams: number,
  peakRssBytes: number,
  cpuUsPerTurn: number,
  dynamodbPerTurn: DynamoDbPerTurn,
): StreamsFigures {
  const ok = outcomes.filter((o) => o.ok);
  const usage = ok.find((o) => o.usage)?.usage;
  return {
    streams,
    turns: outcomes.length,
    ok: ok.length,
    durationSecondsMedian: median(ok.map((o) => o.totalMs)) / 1000,
    peakRssBytes,
    cpuMsPerTurn: cpuUsPerTurn / 1000,
    dynamodbPerTurn,
    ...(usage && { usage }),
  };
}

function describe(outcome: TurnOutcome): string {
  return outcome.ok ? 'no conversation id' : `${outcome.error}: ${outcome.detail}`;
}
