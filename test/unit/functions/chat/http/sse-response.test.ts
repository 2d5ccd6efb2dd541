import type { Logger } from '@aws-lambda-powertools/logger';
import { describe, expect, it } from 'vitest';
import type { RequestScope } from '../../../../../functions/chat/http/chat-router.js';
import { sseResponse } from '../../../../../functions/chat/http/sse-response.js';

/** A request scope that records its end, what it logged and the metrics it counted. */
function scopeFixture() {
  const logged: unknown[] = [];
  const counted: string[] = [];
  let ended!: () => void;
  const end = new Promise<void>((resolve) => {
    ended = resolve;
  });
  const scope = {
    requestId: 'req-1',
    logger: { error: (...args: unknown[]) => logged.push(args) } as unknown as Logger,
    metrics: { singleMetric: () => ({ addMetric: (name: string) => counted.push(name) }) },
    keepOpen: () => ended,
  } as unknown as RequestScope;
  return { scope, logged, counted, end };
}

describe('sseResponse', () => {
  it('ends the request without an error when the reader went away before the producer finished', async () => {
    const { scope, logged, end } = scopeFixture();
    let finish!: () => void;
    const response = sseResponse(
      scope,
      (write) =>
        new Promise<void>((resolve) => {
          write('data: one\n\n');
          finish = resolve;
        }),
      { pingIntervalMs: 60_000 },
    );
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);

    await response.body!.cancel();
    finish();
    await end;
    await new Promise((resolve) => setTimeout(resolve, 10));
    process.off('unhandledRejection', onUnhandled);

    expect(unhandled).toEqual([]);
    expect(logged).toEqual([]);
  });

  it('logs a producer that fails, and still ends the stream and the request', async () => {
    const { scope, logged, counted, end } = scopeFixture();
    const failure = new Error('the table is unreachable');
    const response = sseResponse(
      scope,
      async (write) => {
        write('data: one\n\n');
        throw failure;
      },
      { pingIntervalMs: 60_000 },
    );

    expect(await response.text()).toBe('data: one\n\n');
    await end;
    expect(logged).toEqual([['the stream failed', { error: failure }]]);
    expect(counted).toEqual(['InternalErrors']);
  });
});
