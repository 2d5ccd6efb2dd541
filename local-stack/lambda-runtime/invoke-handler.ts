import { finished } from 'node:stream/promises';
import type { Context } from 'aws-lambda';
import { MAX_BUFFERED_RESPONSE_BYTES, toHttpResponse } from './buffered-response.js';
import type { FunctionUrlResponder } from './function-url-responder.js';
import { LambdaResponseStream } from './response-stream.js';
import { streamingHighWaterMark } from './streaming.js';

/** Any handler: `(event, context)` or, once marked by streamifyResponse, `(event, stream, context)`. */
export type AnyHandler = (...args: never[]) => unknown;
type Invocable = (...args: unknown[]) => unknown;

/** Lambda refused a buffered response over 6 MB. */
export class ResponseSizeTooLargeError extends Error {
  override readonly name = 'Function.ResponseSizeTooLarge';
}

/**
 * Runs a streaming handler as the runtime's StreamingInvokeProcessor does: the handler must
 * return a promise, its resolved value is ignored, and the invocation lasts until the stream
 * has ended (a handler that never ends it runs into the function timeout).
 */
export async function invokeStreaming(
  handler: AnyHandler,
  event: unknown,
  context: Context,
  responder: FunctionUrlResponder,
  warn: (message: string) => void,
): Promise<void> {
  const highWaterMark = streamingHighWaterMark(handler);
  const stream = new LambdaResponseStream(responder, highWaterMark ? { highWaterMark } : {});
  const result = (handler as Invocable)(event, stream, context);
  if (!isPromise(result)) throw new Error('Streaming does not support non-async handlers.');
  if ((await result) !== undefined) warn('Streaming handlers ignore return values.');
  await finished(stream);
}

/** Runs a buffered handler and sends its result as the function URL maps it. */
export async function invokeBuffered(
  handler: AnyHandler,
  event: unknown,
  context: Context,
  responder: FunctionUrlResponder,
): Promise<void> {
  const response = toHttpResponse(await (handler as Invocable)(event, context));
  if (response.body.length > MAX_BUFFERED_RESPONSE_BYTES) {
    throw new ResponseSizeTooLargeError(
      `Response payload size (${response.body.length} bytes) exceeded maximum allowed payload size (${MAX_BUFFERED_RESPONSE_BYTES} bytes).`,
    );
  }
  responder.send(response);
}

function isPromise(value: unknown): value is Promise<unknown> {
  return typeof (value as Promise<unknown> | undefined)?.then === 'function';
}
