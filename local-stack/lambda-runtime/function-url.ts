import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PortInUseError } from '../ports.js';
import { createLambdaContext } from './context.js';
import {
  type FunctionUrlCors,
  isPreflight,
  preflightHeaders,
  responseCorsHeaders,
} from './cors.js';
import { answerClientError, answerWithoutInvoking } from './front-end-errors.js';
import { buildFunctionUrlEvent } from './function-url-event.js';
import { FunctionUrlResponder } from './function-url-responder.js';
import { runInScope } from './invocation-scope.js';
import { type AnyHandler, invokeBuffered, invokeStreaming } from './invoke-handler.js';
import { readRequestBody } from './request-body.js';
import { isWellFormedHead } from './request-head.js';
import { isStreamingHandler } from './streaming.js';
import { invokeErrorLine, settleWithin, taskTimedOutLine } from './timeout.js';

/**
 * Largest invocation payload (the synchronous invocation limit). It bounds the event, in
 * which the body is JSON-escaped or base64-encoded, so the body itself must be smaller.
 */
export const MAX_REQUEST_BYTES = 6 * 1024 * 1024;
/** Largest streamed response: 200 MB. */
export const DEFAULT_MAX_RESPONSE_BYTES = 200 * 1024 * 1024;
/** A body silent this long gets 408: AWS publishes no function URL figure; an ALB's idle default is 60 s. */
export const DEFAULT_BODY_IDLE_TIMEOUT_MS = 60_000;

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
  /** How long a request body may go without a byte before a 408. @default 60000 */
  bodyIdleTimeoutMs?: number;
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

  // A missing Host is refused with the rest of a bad head (isWellFormedHead), in the same words.
  const server = createServer({ noDelay: true, requireHostHeader: false }, (req, res) => {
    handleRequest(req, res).catch((error: unknown) => {
      log(`Local function URL error: ${error instanceof Error ? error.stack : String(error)}`);
      if (!res.headersSent) res.writeHead(500).end();
      else res.destroy();
    });
  });
  server.on('clientError', answerClientError);

  async function handleRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!isWellFormedHead(req)) {
      answerWithoutInvoking(res, 400, { close: true });
      return;
    }
    const method = req.method ?? 'GET';
    const origin = req.headers.origin;
    if (options.cors && isPreflight(method, req.headers)) {
      res.writeHead(204, preflightHeaders(options.cors, origin ?? '')).end();
      return;
    }
    const read = await readRequestBody(req, {
      maxBytes: MAX_REQUEST_BYTES,
      idleTimeoutMs: options.bodyIdleTimeoutMs ?? DEFAULT_BODY_IDLE_TIMEOUT_MS,
    });
    if (read.outcome === 'client-gone') return;
    if (read.outcome === 'too-large') {
      answerWithoutInvoking(res, 413);
      return;
    }
    if (read.outcome === 'stalled') {
      answerWithoutInvoking(res, 408, { close: true });
      return;
    }
    const { body } = read;

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
    if (Buffer.byteLength(JSON.stringify(event)) > MAX_REQUEST_BYTES) {
      answerWithoutInvoking(res, 413);
      return;
    }
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

    const work = runInScope({ functionName: options.functionName }, () =>
      streaming
        ? invokeStreaming(options.handler, event, context, responder, (message) =>
            log(`${new Date().toISOString()}\t${requestId}\tWARN\t${message}`),
          )
        : invokeBuffered(options.handler, event, context, responder),
    );
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
