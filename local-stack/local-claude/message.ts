import { blockWire } from './block-wire.js';
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
  const deltas = context.answer.blocks
    .flatMap((block) => blockWire(block).deltas)
    .reduce((sum, delta) => sum + 1 + (delta.silentTokens ?? 0), 0);
  const generationMs = pacing.ttftMs + deltas * tokenIntervalMs(pacing.tokensPerSecond);
  if (!(await pause(generationMs, exchange.signal))) return;
  if (await answeredByFault(exchange, fault)) return;
  exchange.record.outputTokensSent = context.answer.outputTokens;
  sendJson(exchange, 200, messageJson(context, true));
}

/** The start of a body that is not whole JSON. */
const CUT_SHORT_JSON = '{"type":"message","content":[{"type":"te';

/**
 * Shows a mid-stream fault as a JSON endpoint can: an error status, a cut (before or after
 * the headers), a body that is not JSON, or silence.
 * @returns true when the fault took the place of the answer
 */
export async function answeredByFault(
  exchange: Exchange,
  fault: MidStreamFault | undefined,
): Promise<boolean> {
  switch (fault?.kind) {
    case 'error-first':
    case 'error-mid':
      sendError(exchange, new ApiError(fault.type));
      return true;
    case 'drop':
    case 'end':
      await exchange.dropConnection();
      return true;
    case 'stall':
      await untilAborted(exchange.signal);
      return true;
    case 'cut':
      exchange.res.writeHead(200, { 'content-type': 'application/json' });
      exchange.res.write(CUT_SHORT_JSON);
      await exchange.dropConnection();
      return true;
    case 'garble':
      exchange.res.writeHead(200, { 'content-type': 'application/json' });
      exchange.res.end(CUT_SHORT_JSON);
      return true;
    default:
      return false;
  }
}
