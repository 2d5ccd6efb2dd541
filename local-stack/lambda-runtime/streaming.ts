/**
 * `awslambda.streamifyResponse` and `awslambda.HttpResponseStream`, as the Lambda Node.js
 * runtime defines them (aws-lambda-nodejs-runtime-interface-client: src/utils/globals.ts,
 * src/function/user-function-loader.ts, src/stream/http-response-stream.ts).
 */

/** The content type that tells the function URL a JSON prelude precedes the body. */
export const HTTP_INTEGRATION_RESPONSE_CONTENT_TYPE =
  'application/vnd.awslambda.http-integration-response';

/** The prelude ends with this many NUL bytes (JSON cannot contain one). */
export const PRELUDE_DELIMITER_LENGTH = 8;

/** The property the runtime reads to decide whether a handler streams. */
export const HANDLER_STREAMING = Symbol.for('aws.lambda.runtime.handler.streaming');
/** Where `streamifyResponse` records the `highWaterMark` option for the response stream. */
export const HANDLER_HIGHWATERMARK = Symbol.for(
  'aws.lambda.runtime.handler.streaming.highWaterMark',
);
/** The only value of {@link HANDLER_STREAMING} the runtime accepts. */
export const STREAM_RESPONSE = 'response';

/** What `HttpResponseStream.from` needs of the stream: the runtime's response stream has both. */
export interface PreludeCapableStream {
  setContentType(contentType: string): void;
  _onBeforeFirstWrite?: ((write: (chunk: string | Uint8Array) => void) => void) | undefined;
}

type MarkedHandler = ((...args: never[]) => unknown) & {
  [HANDLER_STREAMING]?: unknown;
  [HANDLER_HIGHWATERMARK]?: unknown;
};

/**
 * Marks `handler` as a response-streaming handler and returns it unchanged, exactly as
 * the runtime does; the runtime then calls it with `(event, responseStream, context)`.
 */
export function streamifyResponse<T extends (...args: never[]) => unknown>(
  handler: T,
  options?: { highWaterMark?: number },
): T {
  const marked = handler as T & MarkedHandler;
  marked[HANDLER_STREAMING] = STREAM_RESPONSE;
  if (typeof options?.highWaterMark === 'number') {
    marked[HANDLER_HIGHWATERMARK] = Number.parseInt(String(options.highWaterMark), 10);
  }
  return handler;
}

/** The runtime's HTTP integration helper: status, headers and cookies ahead of the body. */
export const HttpResponseStream = {
  /**
   * Sets the prelude content type and arranges for `JSON.stringify(prelude)` and 8 NUL bytes
   * to be written just before the first `write()` (even `write('')`). Returns the same stream.
   * As on AWS, `end(data)` without a prior `write()` bypasses the hook and loses the prelude.
   */
  from<S extends PreludeCapableStream>(underlyingStream: S, prelude: Record<string, unknown>): S {
    underlyingStream.setContentType(HTTP_INTEGRATION_RESPONSE_CONTENT_TYPE);
    const metadataPrelude = JSON.stringify(prelude);
    underlyingStream._onBeforeFirstWrite = (write) => {
      write(metadataPrelude);
      write(new Uint8Array(PRELUDE_DELIMITER_LENGTH));
    };
    return underlyingStream;
  },
};

/** Thrown by the runtime for a streaming marker other than 'response'. */
export class MalformedStreamingHandlerError extends Error {
  override readonly name = 'Runtime.MalformedStreamingHandler';
}

/** Whether the runtime would invoke `handler` in response-streaming mode. */
export function isStreamingHandler(handler: (...args: never[]) => unknown): boolean {
  const value = (handler as MarkedHandler)[HANDLER_STREAMING];
  if (!value) return false;
  if (value === STREAM_RESPONSE) return true;
  throw new MalformedStreamingHandlerError('Only response streaming is supported.');
}

/** The `highWaterMark` given to `streamifyResponse`, if any. */
export function streamingHighWaterMark(handler: (...args: never[]) => unknown): number | undefined {
  const value = Number((handler as MarkedHandler)[HANDLER_HIGHWATERMARK]);
  return Number.isNaN(value) || value === 0 ? undefined : value;
}
