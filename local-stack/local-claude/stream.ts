import type { Fault } from './directives.js';
import { errorObject } from './errors.js';
import type { Exchange } from './exchange.js';
import { pause, tokenIntervalMs, untilAborted } from './pacing.js';
import { messageDeltaJson, messageJson, type ReplyContext, sseFrame } from './wire.js';

export interface Pacing {
  ttftMs: number;
  tokensPerSecond: number;
}

export type MidStreamFault = Exclude<Fault, { kind: 'error-before' | 'hang' }>;

/**
 * Streams a reply as the API does: message_start, content_block_start, ping, one
 * text_delta per token, content_block_stop, message_delta, message_stop. A mid-stream
 * fault replaces everything after its `after`-th delta.
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
  send('message_start', { type: 'message_start', message: messageJson(context, false) });
  const { deltas } = context.reply;
  const hasBlock = deltas.length > 0 || fault !== undefined;
  if (hasBlock) {
    send('content_block_start', {
      type: 'content_block_start',
      index: 0,
      content_block: { type: 'text', text: '' },
    });
  }
  send('ping', { type: 'ping' });
  if (!(await pause(pacing.ttftMs, signal))) return;

  const interval = tokenIntervalMs(pacing.tokensPerSecond);
  for (const [index, text] of deltas.entries()) {
    if (fault && index === fault.after) return inject(exchange, fault);
    send('content_block_delta', {
      type: 'content_block_delta',
      index: 0,
      delta: { type: 'text_delta', text },
    });
    record.outputTokensSent += 1;
    if (index < deltas.length - 1 && !(await pause(interval, signal))) return;
  }
  if (fault) return inject(exchange, fault);

  if (hasBlock) send('content_block_stop', { type: 'content_block_stop', index: 0 });
  send('message_delta', messageDeltaJson(context));
  send('message_stop', { type: 'message_stop' });
  res.end();
}

async function inject(exchange: Exchange, fault: MidStreamFault): Promise<void> {
  switch (fault.kind) {
    case 'error-mid':
      exchange.res.end(sseFrame('error', { type: 'error', error: errorObject(fault.type) }));
      return;
    case 'drop':
      return exchange.dropConnection();
    case 'stall':
      return untilAborted(exchange.signal);
  }
}
