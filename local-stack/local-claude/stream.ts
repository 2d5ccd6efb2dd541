import { type BlockWire, blockWire } from './block-wire.js';
import type { Fault } from './directives.js';
import { errorObject } from './errors.js';
import type { Exchange } from './exchange.js';
import { pause, tokenIntervalMs, untilAborted } from './pacing.js';
import { messageDeltaJson, messageJson, type ReplyContext, sseFrame } from './wire.js';

export interface Pacing {
  ttftMs: number;
  tokensPerSecond: number;
  /** How long a stream goes without any event before a `ping`. */
  keepAliveMs: number;
}

/** The API's keep-alive: while Claude thinks without showing it, a `ping` about every 30 s. */
export const API_KEEP_ALIVE_MS = 30_000;

export type MidStreamFault = Exclude<Fault, { kind: 'error-before' | 'hang' }>;

/** A fault that ends the answer, as opposed to `garble`, after which it goes on. */
type BreakingFault = Exclude<MidStreamFault, { kind: 'garble' }>;

/** An event cut short: its data is not JSON, as no SSE reader can parse it. */
const GARBLED_FRAME =
  'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"te\n\n';

/** A fault needs a block to break into, even when the reply is empty (max_tokens 0). */
const EMPTY_TEXT: BlockWire = { start: { type: 'text', text: '' }, deltas: [], final: {} };

/**
 * Streams a reply as the API does: the headers at once; after the time to first token
 * message_start (its usage already counts the first output token), then per block
 * content_block_start (a ping after the first), its deltas and content_block_stop, then
 * message_delta and message_stop. A mid-stream fault replaces everything after its
 * `after`-th delta, counted across blocks; `error-first` everything from message_start on.
 */
export async function streamReply(
  exchange: Exchange,
  context: ReplyContext,
  pacing: Pacing,
  fault: MidStreamFault | undefined,
): Promise<void> {
  const { res, record, signal } = exchange;
  const send = (event: string, data: unknown) => res.write(sseFrame(event, data));
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
  });
  // The status is committed before generation: an overload past this point is an SSE error.
  res.flushHeaders();
  if (!(await pause(pacing.ttftMs, signal))) return;
  if (fault?.kind === 'error-first') return inject(exchange, fault);
  send('message_start', { type: 'message_start', message: messageJson(context, false) });
  const blocks = context.answer.blocks.map(blockWire);
  if (blocks.length === 0 && fault) blocks.push(EMPTY_TEXT);
  if (blocks.length === 0) send('ping', { type: 'ping' });

  const interval = tokenIntervalMs(pacing.tokensPerSecond);
  const total = blocks.reduce((sum, block) => sum + block.deltas.length, 0);
  const breaking = fault?.kind === 'garble' ? undefined : fault;
  const garbleAt = fault?.kind === 'garble' ? Math.min(fault.after, total) : undefined;
  let sent = 0;
  for (const [index, block] of blocks.entries()) {
    send('content_block_start', { type: 'content_block_start', index, content_block: block.start });
    if (index === 0) send('ping', { type: 'ping' });
    for (const { delta, tokens, silentTokens = 0 } of block.deltas) {
      if (breaking && sent === breaking.after) return inject(exchange, breaking);
      if (sent === garbleAt) res.write(GARBLED_FRAME);
      const silence = silentTokens * interval;
      if (!(await pingThrough(silence, pacing.keepAliveMs, exchange, send))) return;
      send('content_block_delta', { type: 'content_block_delta', index, delta });
      record.outputTokensSent += tokens;
      sent += 1;
      if (sent < total && !(await pause(interval, signal))) return;
    }
    if (breaking && index === blocks.length - 1) return inject(exchange, breaking);
    send('content_block_stop', { type: 'content_block_stop', index });
  }
  if (garbleAt === total) res.write(GARBLED_FRAME);
  send('message_delta', messageDeltaJson(context));
  send('message_stop', { type: 'message_stop' });
  res.end();
}

/**
 * Waits `ms`, sending a ping every `keepAliveMs` of it, as the API does while Claude thinks.
 * @returns false when the client went away
 */
async function pingThrough(
  ms: number,
  keepAliveMs: number,
  exchange: Exchange,
  send: (event: string, data: unknown) => void,
): Promise<boolean> {
  for (let left = ms; left > 0; left -= keepAliveMs) {
    if (!(await pause(Math.min(left, keepAliveMs), exchange.signal))) return false;
    if (left > keepAliveMs) send('ping', { type: 'ping' });
  }
  return true;
}

async function inject(exchange: Exchange, fault: BreakingFault): Promise<void> {
  switch (fault.kind) {
    case 'error-first':
    case 'error-mid':
      exchange.res.end(sseFrame('error', { type: 'error', error: errorObject(fault.type) }));
      return;
    case 'drop':
    case 'cut':
      return exchange.dropConnection();
    case 'end':
      exchange.res.end();
      return;
    case 'stall':
      return untilAborted(exchange.signal);
  }
}
