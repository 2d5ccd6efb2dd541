import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { ApiError } from './errors.js';
import { type Exchange, flushAndDestroy, readBody, sendError } from './exchange.js';
import { FaultLedger } from './faults.js';
import { newRequestId } from './ids.js';
import { DEFAULT_MODELS } from './models.js';
import { PromptCache } from './prompt-cache.js';
import { route } from './router.js';
import type { LocalClaudeService } from './service.js';
import { API_KEEP_ALIVE_MS } from './stream.js';
import type { LocalClaude, LocalClaudeOptions, RecordedRequest } from './types.js';

/** Requests a local Claude keeps for inspection unless told otherwise (`keptRequests`). */
export const DEFAULT_KEPT_REQUESTS = 100;

/**
 * Starts a local double of the Anthropic API (Messages, token counting, models). Point the real SDK at it with
 * `new Anthropic({ baseURL: localClaude.url, apiKey: 'test' })`.
 */
export async function startLocalClaude(options: LocalClaudeOptions = {}): Promise<LocalClaude> {
  const host = options.host ?? '127.0.0.1';
  const service: LocalClaudeService = {
    models: new Set(options.models ?? DEFAULT_MODELS),
    cache: new PromptCache(options.minCacheableTokens ?? 1024),
    faults: new FaultLedger(),
    pacing: {
      ttftMs: options.timeToFirstTokenMs ?? 150,
      tokensPerSecond: options.tokensPerSecond ?? 200,
      keepAliveMs: API_KEEP_ALIVE_MS,
    },
    batches: new Map(),
    batchProcessingMs: options.batchProcessingMs ?? 1000,
  };
  const requests: RecordedRequest[] = [];
  const keptRequests = options.keptRequests ?? DEFAULT_KEPT_REQUESTS;
  const running = new Set<AbortController>();
  let closing: Promise<void> | undefined;

  const server = createServer((req, res) => {
    void handle(req, res);
  });
  // As the API answers (Cloudflare keeps an idle connection 400 s and says nothing of it):
  // no Keep-Alive header, and no idle connection closed (Node's default: 5 s, named).
  server.keepAliveTimeout = 0;
  const connections = new WeakMap<Socket, number>();
  let accepted = 0;
  server.on('connection', (socket) => connections.set(socket, ++accepted));

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://local');
    const record: RecordedRequest = {
      requestId: newRequestId(),
      receivedAt: Date.now(),
      connection: connections.get(req.socket) ?? 0,
      method: req.method ?? 'GET',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: headersOf(req),
      body: undefined,
      rawBody: '',
      aborted: false,
      outputTokensSent: 0,
    };
    requests.push(record);
    if (requests.length > keptRequests) requests.splice(0, requests.length - keptRequests);
    res.setHeader('request-id', record.requestId);
    const controller = new AbortController();
    running.add(controller);
    let closedByServer = false;
    res.on('close', () => {
      if (!res.writableFinished && !closedByServer && !closing) record.aborted = true;
      controller.abort();
      running.delete(controller);
    });
    const exchange: Exchange = {
      res,
      record,
      signal: controller.signal,
      dropConnection: () => {
        closedByServer = true;
        return flushAndDestroy(res, controller.signal);
      },
    };
    try {
      const rawBody = await readBody(req);
      record.rawBody = rawBody;
      record.body = parseForRecord(rawBody);
      await route(exchange, url, rawBody, service);
    } catch (error) {
      // The client is gone (e.g. it aborted while sending the body): nobody to answer.
      if (controller.signal.aborted) return;
      if (res.headersSent) {
        closedByServer = true;
        res.destroy();
      } else if (error instanceof ApiError) {
        sendError(exchange, error);
      } else {
        console.error('local-claude: unexpected error', error);
        sendError(exchange, new ApiError('api_error'));
      }
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const urlHost = host.includes(':') ? `[${host}]` : host;

  return {
    url: `http://${urlHost}:${port}`,
    requests,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const controller of running) controller.abort();
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

function headersOf(req: IncomingMessage): Record<string, string> {
  return Object.fromEntries(
    Object.entries(req.headers).flatMap(([name, value]) =>
      value === undefined ? [] : [[name, Array.isArray(value) ? value.join(', ') : value]],
    ),
  );
}

function parseForRecord(rawBody: string): unknown {
  if (rawBody === '') return undefined;
  try {
    return JSON.parse(rawBody);
  } catch {
    return rawBody;
  }
}
