import { setTimeout as sleep } from 'node:timers/promises';
import { type ErrorType, UpstreamError } from '../../../shared/domain/errors.js';
import { retryDelayMs } from '../../../shared/domain/retry-delay.js';
import type { UpstreamResponse } from '../../../shared/ports/messages-upstream.js';
import type { TurnController } from '../turn/turn-controller.js';
import { type RawEvent, readEvents } from './sse-events.js';

/** A streamed answer once its first event came, or once the wait for it failed. */
export interface OpenedStream {
  response: UpstreamResponse;
  /** Its events, the first included; a failure while it was awaited is thrown in its place. */
  events: AsyncIterable<RawEvent>;
  /**
   * The API refused the call with its first event, before `message_start` (it sheds load so,
   * after its 200), and a retry could not or did not help: nothing was generated or billed.
   * `eventText` is that event as sent, the whole answer (the rest of the body is cancelled);
   * `retryable` when sending the call again may help (an overload), though it was not.
   */
  refusal?: { error: UpstreamError; eventText: string; retryable: boolean };
}

/** What a retry may fix, as the SDKs' status rules have it (429, 5xx, 529). */
const RETRYABLE = new Set(['overloaded_error', 'api_error', 'rate_limit_error', 'timeout_error']);

/** The status the API answers each error type with, when the error comes before its 200. */
const STATUS_OF: Record<string, number> = {
  invalid_request_error: 400,
  authentication_error: 401,
  billing_error: 402,
  permission_error: 403,
  not_found_error: 404,
  request_too_large: 413,
  rate_limit_error: 429,
  api_error: 500,
  timeout_error: 504,
  overloaded_error: 529,
};

/**
 * Sends a streamed call and awaits its first event (pings aside), sending it again (`maxRetries` times, with
 * the SDK's back-off) while that event is an error a retry may fix: the API sheds load with
 * `event: error` (`overloaded_error`) after its 200 and before `message_start`, which the SDKs,
 * whose retries look at the status alone, do not retry. A chat turn's model call does the same.
 * Each sending (with the back-off before it) is awaited within `firstByteTimeoutMs`, its first
 * event within `idleTimeoutMs` (a long prompt's first event may take a while: the idle
 * watchdog, not the start one).
 * @throws what `send` throws; an abort of the controller while waiting to retry
 */
export async function openStream(options: {
  send: () => Promise<UpstreamResponse>;
  controller: TurnController;
  firstByteTimeoutMs: number;
  idleTimeoutMs: number;
  maxRetries: number;
}): Promise<OpenedStream> {
  const { send, controller } = options;
  controller.expectStartWithin(options.firstByteTimeoutMs);
  for (let retry = 0; ; retry++) {
    const response = await send();
    controller.started();
    controller.touch(options.idleTimeoutMs);
    const events = readEvents(response.body);
    const { pings, first } = await firstEventOf(events, () =>
      controller.touch(options.idleTimeoutMs),
    );
    const refused =
      'result' in first && !first.result.done ? refusalOf(first.result.value) : undefined;
    if (!refused) return { response, events: replayingFirst(pings, first, events) };
    await events.return(undefined);
    await response.body.cancel().catch(() => {});
    if (!refused.retryable || retry >= options.maxRetries) {
      return { response, events: replayingFirst([], first, events), refusal: refused };
    }
    // The back-off and the next sending, within the start watchdog alone.
    controller.expectStartWithin(options.firstByteTimeoutMs);
    await sleep(retryDelayMs(retry), undefined, { signal: controller.signal });
  }
}

function refusalOf(event: RawEvent): OpenedStream['refusal'] {
  if (event.name !== 'error') return undefined;
  const error = ((event.data ?? {}) as { error?: { type?: unknown; message?: unknown } }).error;
  const type =
    typeof error?.type === 'string' && error.type in STATUS_OF ? error.type : 'api_error';
  const message = typeof error?.message === 'string' ? error.message : 'the model failed';
  return {
    error: new UpstreamError(STATUS_OF[type] ?? 500, type as ErrorType, message),
    eventText: event.text,
    retryable: RETRYABLE.has(type),
  };
}

type FirstRead = { result: IteratorResult<RawEvent> } | { error: unknown };

/**
 * The first event that is not a `ping`, or how the wait for it ended, and the pings before it:
 * a ping says nothing of whether the call was taken (the SDKs skip it, and so raise an error
 * after one as the call's failure, as a chat turn's model call retries it). Each ping keeps the
 * idle watchdog at rest (`touch`).
 */
async function firstEventOf(
  events: AsyncGenerator<RawEvent>,
  touch: () => void,
): Promise<{ pings: RawEvent[]; first: FirstRead }> {
  const pings: RawEvent[] = [];
  for (;;) {
    const first: FirstRead = await events.next().then(
      (result) => ({ result }),
      (error: unknown) => ({ error }),
    );
    if (!('result' in first) || first.result.done || first.result.value.name !== 'ping') {
      return { pings, first };
    }
    pings.push(first.result.value);
    touch();
  }
}

async function* replayingFirst(
  pings: readonly RawEvent[],
  first: FirstRead,
  rest: AsyncGenerator<RawEvent>,
): AsyncGenerator<RawEvent> {
  try {
    yield* pings;
    if ('error' in first) throw first.error;
    if (first.result.done) return;
    yield first.result.value;
    yield* rest;
  } finally {
    await rest.return(undefined);
  }
}
