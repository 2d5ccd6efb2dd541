import type { ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';

/** The statuses the function URL's front end answers itself, without invoking the function. */
const MESSAGES = {
  400: 'Bad Request',
  408: 'Request Timeout',
  413: 'Request Entity Too Large',
  431: 'Request Header Fields Too Large',
} as const;

export type FrontEndStatus = keyof typeof MESSAGES;

/** `{"message":"Bad Request"}`: the body of every answer the front end gives itself. */
function body(status: FrontEndStatus): string {
  return JSON.stringify({ message: MESSAGES[status] });
}

/** Answers `res` without invoking the function; with `close`, the connection ends after it. */
export function answerWithoutInvoking(
  res: ServerResponse,
  status: FrontEndStatus,
  options: { close?: boolean } = {},
): void {
  const text = body(status);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    ...(options.close && { connection: 'close' }),
  });
  res.end(text);
}

/**
 * A request Node cannot parse gets the answer a front end gives, not a reset: 431 for a
 * head over 16 KiB (Node's limit), 408 past Node's whole-request timeout, 400 otherwise.
 * The rest of what the client sends is read and dropped, so closing does not reset the
 * connection before it reads the answer. A client that reset the connection is gone, and a
 * response already under way (garbage pipelined behind a request) must not get a second
 * head in its body: the connection is only closed, as Node itself does.
 */
export function answerClientError(error: NodeJS.ErrnoException, socket: Duplex): void {
  const inFlight = (socket as Duplex & { _httpMessage?: ServerResponse | null })._httpMessage;
  if (error.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent) {
    socket.destroy();
    return;
  }
  const status: FrontEndStatus =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? 431
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? 408
        : 400;
  const text = body(status);
  socket.on('data', () => undefined);
  socket.end(
    `HTTP/1.1 ${status} ${MESSAGES[status]}\r\ncontent-type: application/json\r\n` +
      `content-length: ${Buffer.byteLength(text)}\r\nconnection: close\r\n\r\n${text}`,
  );
}
