import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { HttpResponseParts } from './buffered-response.js';
import type { ResponseSink } from './response-stream.js';
import { HTTP_INTEGRATION_RESPONSE_CONTENT_TYPE, PRELUDE_DELIMITER_LENGTH } from './streaming.js';

const DELIMITER = Buffer.alloc(PRELUDE_DELIMITER_LENGTH);
const INTERNAL_SERVER_ERROR = JSON.stringify({ message: 'Internal Server Error' });

export interface ResponderOptions {
  /** Headers the service adds to every response (request id, CORS). */
  serviceHeaders: OutgoingHttpHeaders;
  /** Bytes a streamed response may have before it is cut. */
  maxResponseBytes: number;
  log: (line: string) => void;
  onClientDisconnect?: () => void;
}

/**
 * The function URL's side of one invocation: turns what the handler writes into the HTTP
 * response, as the service does. With the http-integration-response content type it reads
 * the JSON prelude up to the 8 NUL bytes (status, headers, cookies); every later byte is
 * forwarded as it arrives. Once the client leaves or the invocation is over, writes are
 * discarded silently: the handler is never told (as on AWS).
 */
export class FunctionUrlResponder implements ResponseSink {
  responseBytes = 0;
  discardedBytes = 0;
  #clientGone = false;
  /** Failed, timed out or cut: nothing more reaches the client. */
  #over = false;
  #mode: 'first-write' | 'prelude' | 'body' = 'first-write';
  #prelude: Buffer[] = [];
  readonly #res: ServerResponse;
  readonly #options: ResponderOptions;

  constructor(res: ServerResponse, options: ResponderOptions) {
    this.#res = res;
    this.#options = options;
    res.on('close', () => {
      if (!res.writableFinished && !this.#over) {
        this.#clientGone = true;
        options.onClientDisconnect?.();
      }
    });
  }

  get clientDisconnected(): boolean {
    return this.#clientGone;
  }

  write(chunk: Buffer, contentType: string, done: () => void): void {
    if (this.#over || this.#clientGone) {
      this.discardedBytes += chunk.length;
      done();
      return;
    }
    this.responseBytes += chunk.length;
    if (this.responseBytes > this.#options.maxResponseBytes) {
      this.#options.log(
        `Response exceeded the ${this.#options.maxResponseBytes}-byte limit: stream cut`,
      );
      this.discardedBytes += chunk.length;
      this.fail();
      done();
      return;
    }
    if (this.#mode === 'first-write') {
      this.#mode = contentType === HTTP_INTEGRATION_RESPONSE_CONTENT_TYPE ? 'prelude' : 'body';
      if (this.#mode === 'body') this.#sendHead(200, { 'content-type': contentType }, []);
    }
    if (this.#mode === 'prelude') {
      const body = this.#readPrelude(chunk);
      if (body === undefined) {
        done();
        return;
      }
      this.#forward(body, done);
      return;
    }
    this.#forward(chunk, done);
  }

  end(contentType: string): void {
    if (this.#over || this.#clientGone) return;
    if (!this.#res.headersSent) {
      // No write at all, or a prelude never terminated (e.g. end(data) after from()): AWS answers 200, empty.
      const plain =
        this.#mode === 'first-write' && contentType !== HTTP_INTEGRATION_RESPONSE_CONTENT_TYPE;
      this.#sendHead(200, plain ? { 'content-type': contentType } : {}, []);
    }
    this.#res.end();
  }

  abort(): void {
    this.fail();
  }

  /** The invocation failed or timed out: a 502 before any byte, otherwise the connection is cut. */
  fail(): void {
    if (this.#over || this.#res.writableEnded) return;
    this.#over = true;
    if (this.#clientGone) return;
    if (this.#res.headersSent) {
      // Without the terminating chunk, the client sees a truncated response.
      this.#res.destroy();
      return;
    }
    this.#res.writeHead(502, {
      ...this.#options.serviceHeaders,
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(INTERNAL_SERVER_ERROR),
    });
    this.#res.end(INTERNAL_SERVER_ERROR);
  }

  /** A buffered (non-streaming) handler's response. */
  send(response: HttpResponseParts): void {
    if (this.#over || this.#clientGone) return;
    this.responseBytes = response.body.length;
    this.#res.setHeader('content-length', response.body.length);
    this.#sendHead(response.statusCode, response.headers, response.cookies);
    this.#res.end(response.body);
  }

  /** Buffers prelude bytes; once the delimiter arrives, sends the head and returns the rest. */
  #readPrelude(chunk: Buffer): Buffer | undefined {
    this.#prelude.push(chunk);
    const buffered = Buffer.concat(this.#prelude);
    const end = buffered.indexOf(DELIMITER);
    if (end === -1) {
      this.#prelude = [buffered];
      return undefined;
    }
    this.#prelude = [];
    this.#mode = 'body';
    let prelude: { statusCode?: number; headers?: Record<string, unknown>; cookies?: string[] };
    try {
      prelude = JSON.parse(buffered.subarray(0, end).toString('utf8'));
    } catch {
      this.#options.log('The response prelude is not valid JSON');
      this.fail();
      return undefined;
    }
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(prelude.headers ?? {})) {
      headers[name.toLowerCase()] = String(value);
    }
    // The service streams with chunked encoding whatever the function declares.
    delete headers['content-length'];
    delete headers['transfer-encoding'];
    this.#sendHead(prelude.statusCode ?? 200, headers, prelude.cookies ?? []);
    return buffered.subarray(end + PRELUDE_DELIMITER_LENGTH);
  }

  #sendHead(statusCode: number, headers: Record<string, string>, cookies: string[]): void {
    const res = this.#res;
    for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
    if (cookies.length > 0) res.setHeader('set-cookie', cookies);
    for (const [name, value] of Object.entries(this.#options.serviceHeaders)) {
      if (value !== undefined) res.setHeader(name, value);
    }
    res.writeHead(statusCode);
    // Status and headers reach the client now, not with the first body byte.
    res.flushHeaders();
  }

  #forward(chunk: Buffer, done: () => void): void {
    if (chunk.length === 0 || this.#res.destroyed) {
      done();
      return;
    }
    if (this.#res.write(chunk)) {
      done();
      return;
    }
    const release = () => {
      this.#res.off('drain', release);
      this.#res.off('close', release);
      done();
    };
    this.#res.once('drain', release);
    this.#res.once('close', release);
  }
}
