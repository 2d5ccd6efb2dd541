import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError, invalidRequest } from './errors.js';
import { pause } from './pacing.js';
import { checkSurrogatePairs } from './surrogates.js';
import type { RecordedRequest } from './types.js';

/** One request and its response while it runs. */
export interface Exchange {
  readonly res: ServerResponse;
  readonly record: RecordedRequest;
  /** Aborted when the client goes away or the server closes: stop generating at once. */
  readonly signal: AbortSignal;
  /** Cuts the connection on purpose (a drop fault); not recorded as a client abort. */
  dropConnection(): Promise<void>;
}

/** The real API's request size limit for the Messages endpoint. */
export const MAX_BODY_BYTES = 32 * 1024 * 1024;

/** The body as text. @throws ApiError 413 `request_too_large` past MAX_BODY_BYTES */
export async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new ApiError('request_too_large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** The body parsed as JSON. @throws ApiError 400 with the parser's message */
export function parseJsonBody(rawBody: string): unknown {
  let body: unknown;
  try {
    body = JSON.parse(rawBody);
  } catch (error) {
    throw invalidRequest(`There was an error parsing the body: ${(error as Error).message}`);
  }
  checkSurrogatePairs(rawBody);
  return body;
}

export function sendJson(
  exchange: Exchange,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  exchange.res.writeHead(status, { ...headers, 'content-type': 'application/json' });
  exchange.res.end(JSON.stringify(body));
}

export function sendError(exchange: Exchange, error: ApiError): void {
  sendJson(exchange, error.status, error.body(exchange.record.requestId), error.headers);
}

/** Lets what was written reach the socket, then destroys it: the client sees a cut, not an end. */
export async function flushAndDestroy(res: ServerResponse, signal: AbortSignal): Promise<void> {
  const socket = res.socket;
  await pause(0, signal);
  if (socket && socket.writableLength > 0 && !socket.destroyed) {
    await new Promise<void>((resolve) => {
      socket.once('drain', resolve);
      socket.once('close', resolve);
    });
  }
  socket?.destroy();
}
