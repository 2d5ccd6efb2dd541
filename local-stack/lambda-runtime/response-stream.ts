import { Writable } from 'node:stream';
import type { PreludeCapableStream } from './streaming.js';

/** The runtime's content type when the handler sets none. */
export const DEFAULT_STREAM_CONTENT_TYPE = 'application/octet-stream';

/** Where a response stream's bytes go: the service in front of the function. */
export interface ResponseSink {
  /** Called for each chunk in order; `done` releases the next one (backpressure). */
  write(chunk: Buffer, contentType: string, done: () => void): void;
  /** The handler ended the stream. */
  end(contentType: string): void;
  /** The stream was destroyed before it ended. */
  abort(error: Error | null): void;
}

/** A misuse the runtime rejects, such as setting the content type after writing. */
export class InvalidStreamingOperationError extends Error {
  override readonly name = 'Runtime.InvalidStreamingOperation';
}

type WriteCallback = (error?: Error | null) => void;

/**
 * The `responseStream` a streaming handler receives. Mirrors the runtime's wrapper around
 * its chunked POST to the Runtime API (src/stream/response-stream.ts): `setContentType`
 * only before the first write, non-binary chunks JSON-serialized, and the
 * `_onBeforeFirstWrite` hook run by `write()` only — `end(data)` does not run it.
 */
export class LambdaResponseStream extends Writable implements PreludeCapableStream {
  _onBeforeFirstWrite?: ((write: (chunk: string | Uint8Array) => void) => void) | undefined;
  #contentType = DEFAULT_STREAM_CONTENT_TYPE;
  #writeCalled = false;
  readonly #sink: ResponseSink;

  constructor(sink: ResponseSink, options: { highWaterMark?: number } = {}) {
    super(options.highWaterMark === undefined ? {} : { highWaterMark: options.highWaterMark });
    this.#sink = sink;
    // The runtime listens for errors on its request; an unheard 'error' would crash the process.
    this.on('error', () => {});
  }

  setContentType(contentType: string): void {
    if (this.#writeCalled) {
      throw new InvalidStreamingOperationError('Cannot set content-type, too late.');
    }
    this.#contentType = contentType;
  }

  override write(chunk: unknown, callback?: WriteCallback): boolean;
  override write(chunk: unknown, encoding: BufferEncoding, callback?: WriteCallback): boolean;
  override write(
    chunk: unknown,
    encodingOrCallback?: BufferEncoding | WriteCallback,
    callback?: WriteCallback,
  ): boolean {
    const data =
      typeof chunk === 'string' || chunk instanceof Uint8Array ? chunk : JSON.stringify(chunk);
    if (!this.#writeCalled && typeof this._onBeforeFirstWrite === 'function') {
      this._onBeforeFirstWrite((part) => super.write(part));
    }
    this.#writeCalled = true;
    return typeof encodingOrCallback === 'function'
      ? super.write(data, encodingOrCallback)
      : super.write(data, encodingOrCallback ?? 'utf8', callback);
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: WriteCallback): void {
    this.#sink.write(chunk, this.#contentType, () => callback());
  }

  override _final(callback: WriteCallback): void {
    this.#sink.end(this.#contentType);
    callback();
  }

  override _destroy(error: Error | null, callback: WriteCallback): void {
    if (!this.writableFinished) this.#sink.abort(error);
    callback(error);
  }
}
