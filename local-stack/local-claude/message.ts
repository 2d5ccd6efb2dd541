import { ApiError } from './errors.js';
import type { Exchange } from './exchange.js';
import { sendError, sendJson } from './exchange.js';
import { pause, tokenIntervalMs, untilAborted } from './pacing.js';
import type { MidStreamFault, Pacing } from './stream.js';
import { messageJson, type ReplyContext } from './wire.js';

/**
 * Answers a non-streaming request with the whole Message, after as long as streaming
 * it would have taken. A mid-stream fault can only show as an error status or a cut.
 */
export async function sendMessage(
  exchange: Exchange,
  context: ReplyContext,
  pacing: Pacing,
  fault: MidStreamFault | undefined,
): Promise<void> {
  const tokens = context.reply.deltas.length;
  const generationMs = pacing.ttftMs + tokens * tokenIntervalMs(pacing.tokensPerSecond);
  if (!(await pause(generationMs, exchange.signal))) return;
  switch (fault?.kind) {
    case 'error-mid':
      return sendError(exchange, new ApiError(fault.type));
    case 'drop':
      return exchange.dropConnection();
    case 'stall':
      return untilAborted(exchange.signal);
  }
  exchange.record.outputTokensSent = context.reply.outputTokens;
  sendJson(exchange, 200, messageJson(context, true));
}
