import type { TurnController } from '../turn/turn-controller.js';
import type { AnswerMeter, MeteredAnswer } from './answer-meter.js';
import type { RawEvent } from './sse-events.js';
import { timeoutError } from './timeout-error.js';

/**
 * Relays the upstream's events verbatim, metering them. A stream that stalls, breaks or
 * runs into the deadline ends with an `error` event the SDKs raise; the answer is then
 * settled from what was generated (`finish`), and only a whole answer is cached. Ended
 * early (its reader gone), it aborts the upstream call through the controller.
 */
export async function* relayAnswer(
  events: AsyncIterable<RawEvent>,
  options: {
    meter: AnswerMeter;
    controller: TurnController;
    idleTimeoutMs: number;
    onFirstEvent: () => void;
    finish: (metered: MeteredAnswer, answerBody: string | undefined) => Promise<void>;
  },
): AsyncGenerator<string> {
  const { meter, controller, idleTimeoutMs } = options;
  const sent: string[] = [];
  let first = true;
  try {
    controller.touch(idleTimeoutMs);
    for await (const event of events) {
      controller.touch(idleTimeoutMs);
      meter.observe(event.name, event.data);
      if (event.malformed) meter.observeUnreadable();
      if (first && event.name !== 'message_start' && event.name !== 'ping') {
        first = false;
        options.onFirstEvent();
      }
      sent.push(event.text);
      yield event.text;
    }
    if (controller.interruptedBy) throw timeoutError(controller);
    if (!meter.result().complete && !meter.result().error) {
      throw new Error('the upstream stream ended before message_stop');
    }
  } catch (error) {
    const text = controller.interruptedBy
      ? errorEvent('timeout_error', timeoutError(controller).message)
      : errorEvent('api_error', streamBreak(error));
    meter.observe('error', JSON.parse(text.slice(text.indexOf('{'))));
    yield text;
  } finally {
    // The upstream call's signal: its body stops with it.
    controller.interrupt('stopped');
    await options.finish(meter.result(), sent.join(''));
  }
}

function streamBreak(error: unknown): string {
  return error instanceof Error && error.message.includes('message_stop')
    ? error.message
    : 'the upstream stream broke';
}

function errorEvent(type: string, message: string): string {
  return `event: error\ndata: ${JSON.stringify({ type: 'error', error: { type, message } })}\n\n`;
}
