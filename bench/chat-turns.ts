import Anthropic from '@anthropic-ai/sdk';
import { percentile } from './stats.js';

export interface TurnTiming {
  /** Milliseconds to the first byte of the response body. */
  ttfbMs: number;
  /** Milliseconds to the first text token. */
  ttftMs: number;
  totalMs: number;
}

/** One turn: its timing when it succeeded, else what went wrong. */
export type TurnOutcome =
  | ({ ok: true; conversationId?: string; usage?: TurnUsage } & TurnTiming)
  | { ok: false; status: number; error: string; detail?: string };

export interface TurnUsage {
  inputTokens: number;
  outputTokens: number;
  cacheReadInputTokens: number;
  cacheCreationInputTokens: number;
}

export interface Summary {
  turns: number;
  concurrency: number;
  ok: number;
  /** Failed turns by what failed: `409 conflict_error`, `429 rate_limit_error`, `stream error`… */
  errors: Record<string, number>;
  ttfbP50: number;
  ttfbP99: number;
  ttftP50: number;
  ttftP99: number;
  totalP50: number;
  totalP99: number;
}

/** Percentiles over the turns that succeeded; failures are counted by kind. */
export function summarize(outcomes: TurnOutcome[], concurrency: number): Summary {
  const ok = outcomes.filter((o) => o.ok);
  const errors: Record<string, number> = {};
  for (const o of outcomes) if (!o.ok) errors[o.error] = (errors[o.error] ?? 0) + 1;
  const of = (key: keyof TurnTiming) => ok.map((t) => t[key]);
  return {
    turns: outcomes.length,
    concurrency,
    ok: ok.length,
    errors,
    ttfbP50: percentile(of('ttfbMs'), 50),
    ttfbP99: percentile(of('ttfbMs'), 99),
    ttftP50: percentile(of('ttftMs'), 50),
    ttftP99: percentile(of('ttftMs'), 99),
    totalP50: percentile(of('totalMs'), 50),
    totalP99: percentile(of('totalMs'), 99),
  };
}

export interface StackTurnRequest {
  url: string;
  token: string;
  message: string;
  conversationId?: string;
  /** Called when the first text token arrives. */
  onFirstToken?: () => void | Promise<void>;
}

/** One chat turn through a function URL, timed from the request; never throws. */
export async function stackTurn(request: StackTurnRequest): Promise<TurnOutcome> {
  const started = performance.now();
  try {
    const response = await fetch(`${request.url}/v1/chat`, {
      method: 'POST',
      headers: { authorization: `Bearer ${request.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        message: request.message,
        ...(request.conversationId && { conversationId: request.conversationId }),
      }),
    });
    if (response.status !== 200 || !response.body) {
      const body = (await response.json().catch(() => ({}))) as { error?: { type?: string } };
      return {
        ok: false,
        status: response.status,
        error: `${response.status} ${body.error?.type}`,
      };
    }
    let ttfbMs = 0;
    let ttftMs = 0;
    let text = '';
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      ttfbMs ||= performance.now() - started;
      text += Buffer.from(chunk).toString('utf8');
      if (!ttftMs && text.includes('event: delta')) {
        ttftMs = performance.now() - started;
        await request.onFirstToken?.();
      }
    }
    const totalMs = performance.now() - started;
    if (text.includes('event: error')) return { ok: false, status: 200, error: 'stream error' };
    const done = eventData(text, 'done') as { usage?: TurnUsage } | undefined;
    if (!done) return { ok: false, status: 200, error: 'no done event' };
    const start = eventData(text, 'start') as { conversationId?: string } | undefined;
    return {
      ok: true,
      ttfbMs,
      ttftMs,
      totalMs,
      ...(start?.conversationId && { conversationId: start.conversationId }),
      ...(done.usage && { usage: done.usage }),
    };
  } catch (error) {
    return { ok: false, status: 0, error: `network ${(error as Error).name}` };
  }
}

function eventData(sse: string, name: string): unknown {
  const line = new RegExp(`event: ${name}\\ndata: (.*)\\n`).exec(sse)?.[1];
  return line ? JSON.parse(line) : undefined;
}

/**
 * One streamed Messages API call with the Anthropic SDK: straight to the local Claude (the
 * floor), or through the stack's `/v1/messages`, as an app that only changed its base URL.
 */
export async function sdkTurn(client: Anthropic, message: string): Promise<TurnOutcome> {
  const started = performance.now();
  try {
    const stream = await client.messages.create({
      model: 'claude-sonnet-4-6',
      max_tokens: 4096,
      stream: true,
      messages: [{ role: 'user', content: message }],
    });
    let ttfbMs = 0;
    let ttftMs = 0;
    for await (const event of stream) {
      ttfbMs ||= performance.now() - started;
      if (!ttftMs && event.type === 'content_block_delta') ttftMs = performance.now() - started;
    }
    return { ok: true, ttfbMs, ttftMs, totalMs: performance.now() - started };
  } catch (error) {
    const status = (error as { status?: number }).status ?? 0;
    const type = (error as { error?: { error?: { type?: string } } }).error?.error?.type;
    return { ok: false, status, error: status ? `${status} ${type}` : (error as Error).name };
  }
}

/** @param apiKey the stack takes a JWT where the SDK sends its API key (`x-api-key`) */
export function sdkClient(baseURL: string, apiKey = 'bench'): Anthropic {
  return new Anthropic({ apiKey, baseURL, maxRetries: 0 });
}
