import { request } from 'node:http';
import { connect, type Socket } from 'node:net';

export interface Deferred<T = void> {
  promise: Promise<T>;
  resolve(value: T): void;
}

export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((done) => {
    resolve = done;
  });
  return { promise, resolve };
}

/** A promise that never settles: a handler stuck on a slow dependency. */
export const forever = () => new Promise<never>(() => {});

/** Collects the lines the local runtime logs. */
export function logLines(): { log: (line: string) => void; lines: string[] } {
  const lines: string[] = [];
  return { log: (line) => lines.push(line), lines };
}

/** Reads from a fetch body until the text seen so far contains `expected`. */
export async function readUntil(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  expected: string,
): Promise<string> {
  const decoder = new TextDecoder();
  let text = '';
  while (!text.includes(expected)) {
    const { done, value } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
  }
  return text;
}

/** Reads a fetch body to its end. */
export async function readToEnd(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<string> {
  const decoder = new TextDecoder();
  let text = '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return text + decoder.decode();
    text += decoder.decode(value, { stream: true });
  }
}

/** A raw HTTP request (for headers fetch cannot send, such as a repeated header). */
export function rawRequest(
  url: string,
  options: {
    method?: string;
    path: string;
    headers?: Record<string, string | string[]>;
    body?: Buffer | string;
  },
): Promise<{
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${url}${options.path}`,
      { method: options.method ?? 'GET', headers: options.headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString(),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

/**
 * Sends `text` as is over a new connection (or lets `send` write it, paced as it likes) and
 * resolves with everything received until the server closes it: for requests no HTTP client
 * would send (absolute-form targets, broken Host headers, a body shorter than its
 * Content-Length, one trickling in).
 */
export function rawExchange(
  url: string,
  text: string | ((socket: Socket) => Promise<void>),
): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => {
      if (typeof text === 'string') socket.write(text);
      else text(socket).catch(reject);
    });
    let received = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      received += chunk;
    });
    socket.on('close', () => resolve(received));
    socket.on('error', reject);
  });
}

/** Whether a logged line carries a stack frame (`    at fn (file:1:2)`), on its own line or in JSON. */
export const hasStackTrace = (line: string) => /(^|\n|")\s+at \S/.test(line);
