import { randomUUID } from 'node:crypto';
import { Router } from '@aws-lambda-powertools/event-handler/http';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { describe, expect, it, vi } from 'vitest';
import type {
  ChatEnv,
  ChatRequestContext,
} from '../../../../../functions/chat/http/chat-router.js';
import { errorHandler } from '../../../../../functions/chat/http/error-response.js';
import { json } from '../../../../../functions/chat/http/json-response.js';
import { requestScope } from '../../../../../functions/chat/http/request-scope.js';
import { sseResponse } from '../../../../../functions/chat/http/sse-response.js';
import { createLambdaContext } from '../../../../../local-stack/lambda-runtime/context.js';
import { buildFunctionUrlEvent } from '../../../../../local-stack/lambda-runtime/function-url-event.js';
import { ConflictError } from '../../../../../shared/domain/errors.js';

/** Metrics that remember what each publish carried, instead of printing EMF. */
class RecordingMetrics extends Metrics {
  static published: string[][] = [];
  private names: string[] = [];

  override addMetric(
    name: string,
    unit: (typeof MetricUnit)[keyof typeof MetricUnit],
    value: number,
  ) {
    this.names.push(name);
    return super.addMetric(name, unit, value);
  }

  override publishStoredMetrics(): this {
    RecordingMetrics.published.push(this.names);
    this.names = [];
    this.clearMetrics();
    return this;
  }
}

const logger = new Logger({ serviceName: 'scope-test', logLevel: 'SILENT' });

function createApp(parentLogger = logger) {
  const app = new Router<ChatEnv>({ logger });
  app.use(
    requestScope({
      logger: parentLogger,
      createMetrics: () => new RecordingMetrics({ namespace: 'ScopeTest', serviceName: 'chat' }),
    }),
  );
  const scopeOf = (reqCtx: ChatRequestContext) => reqCtx.get('scope')!;
  app.get('/json', async (reqCtx) => {
    scopeOf(reqCtx).metrics.addMetric('Answered', MetricUnit.Count, 1);
    return json(200, { ok: true });
  });
  app.get('/log', async (reqCtx) => {
    scopeOf(reqCtx).logger.info('hello');
    return json(200, {});
  });
  app.get('/rejected', async (reqCtx) => {
    scopeOf(reqCtx).metrics.addMetric('Rejected', MetricUnit.Count, 1);
    throw new ConflictError('busy');
  });
  app.get('/stream', async (reqCtx) => {
    const scope = scopeOf(reqCtx);
    return sseResponse(
      scope,
      async (write) => {
        write('data: one\n\n');
        await new Promise((resolve) => setTimeout(resolve, 20));
        scope.metrics.addMetric('Streamed', MetricUnit.Count, 1);
        write('data: two\n\n');
      },
      { pingIntervalMs: 60_000 },
    );
  });
  app.errorHandler(Error, errorHandler(logger));
  return app;
}

async function get(app: Router<ChatEnv>, path: string) {
  const event = buildFunctionUrlEvent(
    {
      method: 'GET',
      url: path,
      rawHeaders: ['host', 'abc.lambda-url.us-east-1.on.aws'],
      body: Buffer.alloc(0),
      sourceIp: '203.0.113.7',
      port: 443,
      protocol: 'HTTP/1.1',
    },
    { urlId: 'abc', requestId: randomUUID(), receivedAt: new Date() },
  );
  return app.resolve(event, createLambdaContext({ functionName: 'chat', timeoutMs: 30_000 }));
}

describe('the request scope', () => {
  it("logs cold_start: true on the environment's first request only, as Lambda starts it", async () => {
    vi.stubEnv('AWS_LAMBDA_INITIALIZATION_TYPE', 'on-demand');
    const parent = new Logger({ serviceName: 'scope-test' });
    const lines: string[] = [];
    const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      lines.push(String(chunk));
      return true;
    });
    try {
      const app = createApp(parent);
      for (let i = 0; i < 3; i++) await get(app, '/log');
    } finally {
      write.mockRestore();
      vi.unstubAllEnvs();
    }

    const hellos = lines
      .map((line) => JSON.parse(line) as { message: string; cold_start?: boolean })
      .filter((line) => line.message === 'hello');
    expect(hellos.map((line) => line.cold_start)).toEqual([true, false, false]);
  });

  it("publishes a JSON response's metrics once, when it is done", async () => {
    RecordingMetrics.published = [];
    const result = await get(createApp(), '/json');
    expect(result.statusCode).toBe(200);
    expect(RecordingMetrics.published).toEqual([['Answered']]);
  });

  it('publishes the metrics of a request that ended in an error response', async () => {
    RecordingMetrics.published = [];
    const result = await get(createApp(), '/rejected');
    expect(result.statusCode).toBe(409);
    expect(RecordingMetrics.published).toEqual([['Rejected']]);
  });

  it("publishes a stream's metrics after its last byte, with what was added while it streamed", async () => {
    RecordingMetrics.published = [];
    const result = await get(createApp(), '/stream');
    expect(result.body).toBe('data: one\n\ndata: two\n\n');
    expect(RecordingMetrics.published).toEqual([['Streamed']]);
  });
});
