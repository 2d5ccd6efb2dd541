import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { PortInUseError } from '../ports.js';
import { createLambdaContext } from './context.js';
import {
  type FunctionUrlCors,
  isPreflight,
  preflightHeaders,
  responseCorsHeaders,
} from './cors.js';
import { buildFunctionUrlEvent } from './function-url-event.js';
import { FunctionUrlResponder } from './function-url-responder.js';
import { type AnyHandler, invokeBuffered, invokeStreaming } from './invoke-handler.js';
import { isStreamingHandler } from './streaming.js';
import { invokeErrorLine, settleWithin, taskTimedOutLine } from './timeout.js';

/** Largest request payload a function URL accepts (synchronous invocation limit). */
export const MAX_REQUEST_BYTES = 6 * 1024 * 1024;
/** Largest streamed response: 200 MB. */
export const DEFAULT_MAX_RESPONSE_BYTES = 200 * 1024 * 1024;

export interface FunctionUrlOptions {
  /** A plain async handler, or one marked with `awslambda.streamifyResponse` (e.g. middy's). */
  handler: AnyHandler;
  functionName: string;
  /** The function timeout. */
  timeoutMs: number;
  /** @default 0 (a free port) */
  port?: number;
  /** @default '127.0.0.1' */
  host?: string;
  /** The function URL's CORS configuration. @default none: OPTIONS reaches the handler */
  cors?: FunctionUrlCors;
  /** @default 200 MB, the response streaming limit */
  maxResponseBytes?: number;
  /** @default 128 */
  memoryMb?: number;
  /** @default 'us-east-1' */
  region?: string;
  /** Where the runtime's own lines go (timeouts, invoke errors). @default console.log */
  log?: (line: string) => void;
  /** The client closed the connection before the response ended (the handler is not told). */
  onClientDisconnect?: (requestId: string) => void;
  /** An invocation ended: the handler settled or the timeout struck. */
  onInvocationEnd?: (report: InvocationReport) => void;
}

export interface InvocationReport {
  requestId: string;
  outcome: 'succeeded' | 'failed' | 'timed-out';
  clientDisconnected: boolean;
  /** Bytes the handler wrote, prelude included. */
  responseBytes: number;
  /** Bytes written after the client left or the invocation was over, which nobody received. */
  discardedBytes: number;
}

export interface FunctionUrl {
  /** `http://127.0.0.1:PORT` */
  url: string;
  /** Stops listening and drops open connections; handlers still running are not stopped. */
  close(): Promise<void>;
}

/**
 * A local Lambda function URL in front of `handler`, run in this process: each HTTP request
 * becomes a payload 2.0 event and an invocation with its own context and timeout; a streaming
 * handler's output reaches the client as it is written.
 */
export async function startFunctionUrl(options: FunctionUrlOptions): Promise<FunctionUrl> {
  const host = options.host ?? '127.0.0.1';
  const urlId = randomBytes(16).toString('hex');
  const streaming = isStreamingHandler(options.handler);
  const log = options.log ?? ((line: string) => console.log(line));

  const server = createServer({ noDelay: true }, (req, res) => {
    handleRequest(req, res).catch((error: unknown) => {
      log(`Local function URL error: ${error instanceof Error ? error.stack : String(error)}`);
      if (!res.headersSent) res.writeHead(500).end();
      else res.destroy();
    });
  });
  server.on('clientError', answerClientError);

  async function handleRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    const origin = req.headers.origin;
    if (options.cors && isPreflight(method, req.headers)) {
      res.writeHead(204, preflightHeaders(options.cors, origin ?? '')).end();
      return;
    }
    const body = await readBody(req);
    if (body === undefined) {
      const message = JSON.stringify({ message: 'Request Entity Too Large' });
      res.writeHead(413, { 'content-type': 'application/json' }).end(message);
      return;
    }

    const requestId = randomUUID();
    const event = buildFunctionUrlEvent(
      {
        method,
        url: req.url ?? '/',
        rawHeaders: req.rawHeaders,
        body,
        sourceIp: req.socket.remoteAddress?.replace(/^::ffff:/, '') ?? '127.0.0.1',
        port: req.socket.localPort ?? 0,
        protocol: `HTTP/${req.httpVersion}`,
      },
      { urlId, requestId, receivedAt: new Date() },
    );
    const context = createLambdaContext({
      functionName: options.functionName,
      timeoutMs: options.timeoutMs,
      awsRequestId: requestId,
      ...(options.memoryMb && { memoryMb: options.memoryMb }),
      ...(options.region && { region: options.region }),
    });
    const responder = new FunctionUrlResponder(res, {
      serviceHeaders: {
        'x-amzn-requestid': requestId,
        'x-amzn-trace-id': event.headers['x-amzn-trace-id'],
        ...(options.cors && responseCorsHeaders(options.cors, origin)),
      },
      maxResponseBytes: options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES,
      log,
      ...(options.onClientDisconnect && {
        onClientDisconnect: () => options.onClientDisconnect?.(requestId),
      }),
    });

    const work = streaming
      ? invokeStreaming(options.handler, event, context, responder, (message) =>
          log(`${new Date().toISOString()}\t${requestId}\tWARN\t${message}`),
        )
      : invokeBuffered(options.handler, event, context, responder);
    let outcome: InvocationReport['outcome'];
    try {
      const settled = await settleWithin(work, options.timeoutMs);
      outcome = settled.timedOut ? 'timed-out' : 'succeeded';
      if (settled.timedOut) log(taskTimedOutLine(requestId, options.timeoutMs));
    } catch (error) {
      outcome = 'failed';
      log(invokeErrorLine(requestId, error));
    }
    if (outcome !== 'succeeded') responder.fail();
    options.onInvocationEnd?.({
      requestId,
      outcome,
      clientDisconnected: responder.clientDisconnected,
      responseBytes: responder.responseBytes,
      discardedBytes: responder.discardedBytes,
    });
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      const port = options.port ?? 0;
      reject(
        error.code === 'EADDRINUSE'
          ? new PortInUseError(port, `the ${options.functionName} function URL`, { cause: error })
          : error,
      );
    });
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** The request body, or undefined past the 6 MB limit (the rest is drained and dropped). */
async function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size <= MAX_REQUEST_BYTES) chunks.push(chunk as Buffer);
  }
  return size > MAX_REQUEST_BYTES ? undefined : Buffer.concat(chunks);
}

/**
 * A request Node cannot parse gets the answer a front end gives, not a reset: 431 for a
 * head over 16 KiB (Node's limit), 400 otherwise. The rest of what the client sends is
 * read and dropped, so closing does not reset the connection before it reads the answer.
 */
function answerClientError(error: NodeJS.ErrnoException, socket: Duplex): void {
  if (!socket.writable) return;
  const [status, text] =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'Request Header Fields Too Large']
      : [400, 'Bad Request'];
  const body = JSON.stringify({ message: text });
  socket.on('data', () => undefined);
  socket.end(
    `HTTP/1.1 ${status} ${text}\r\ncontent-type: application/json\r\n` +
      `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}
