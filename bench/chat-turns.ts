import Anthropic from '@anthropic-ai/sdk';
import type { Product } from '../local-stack/product.js';
import { percentile, runPool } from './stats.js';

export interface TurnTiming {
  /** Milliseconds to the first byte of the response body. */
  ttfbMs: number;
  /** Milliseconds to the first text token. */
  ttftMs: number;
  totalMs: number;
}

export interface Summary {
  turns: number;
  concurrency: number;
  ttfbP50: number;
  ttfbP99: number;
  ttftP50: number;
  ttftP99: number;
  totalP50: number;
  totalP99: number;
}

export function summarize(timings: TurnTiming[], concurrency: number): Summary {
  const of = (key: keyof TurnTiming) => timings.map((t) => t[key]);
  return {
    turns: timings.length,
    concurrency,
    ttfbP50: percentile(of('ttfbMs'), 50),
    ttfbP99: percentile(of('ttfbMs'), 99),
    ttftP50: percentile(of('ttftMs'), 50),
    ttftP99: percentile(of('ttftMs'), 99),
    totalP50: percentile(of('totalMs'), 50),
    totalP99: percentile(of('totalMs'), 99),
  };
}

/** One chat turn through the local function URL, timed from the request. */
export async function stackTurn(product: Product, token: string, i: number): Promise<TurnTiming> {
  const started = performance.now();
  const response = await fetch(`${product.url}/v1/chat`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ message: `Benchmark turn ${i}: tell me something.` }),
  });
  if (response.status !== 200 || !response.body)
    throw new Error(`turn ${i}: HTTP ${response.status}`);
  let ttfbMs = 0;
  let ttftMs = 0;
  let text = '';
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    ttfbMs ||= performance.now() - started;
    text += Buffer.from(chunk).toString('utf8');
    if (!ttftMs && text.includes('event: delta')) ttftMs = performance.now() - started;
  }
  if (!text.includes('event: done')) throw new Error(`turn ${i}: no done event`);
  return { ttfbMs, ttftMs, totalMs: performance.now() - started };
}

/** The same request straight to the local Claude with the Anthropic SDK: the floor. */
export async function directTurn(client: Anthropic, i: number): Promise<TurnTiming> {
  const started = performance.now();
  const stream = await client.messages.create({
    model: 'claude-sonnet-4-6',
    max_tokens: 4096,
    stream: true,
    messages: [{ role: 'user', content: `Benchmark turn ${i}: tell me something.` }],
  });
  let ttfbMs = 0;
  let ttftMs = 0;
  for await (const event of stream) {
    ttfbMs ||= performance.now() - started;
    if (!ttftMs && event.type === 'content_block_delta') ttftMs = performance.now() - started;
  }
  return { ttfbMs, ttftMs, totalMs: performance.now() - started };
}

export async function measure(
  turns: number,
  concurrency: number,
  turn: (i: number) => Promise<TurnTiming>,
): Promise<Summary> {
  await runPool(Math.min(20, turns), concurrency, turn); // warm-up: JIT, connections
  return summarize(await runPool(turns, concurrency, turn), concurrency);
}

export function directClient(product: Product): Anthropic {
  return new Anthropic({ apiKey: 'bench', baseURL: product.claude.url, maxRetries: 0 });
}
