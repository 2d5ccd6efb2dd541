import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createMessagesObserver } from '../../../../../functions/chat/observability/messages-observer.js';
import { createTurnObserver } from '../../../../../functions/chat/observability/turn-observer.js';
import { SERVICE } from '../../../../../shared/observability/metric-names.js';
import { capturePublishedMetrics } from '../../../../integration/support/published-metrics.js';

describe("the chat function's failures of its own", () => {
  const published: Array<Record<string, unknown>> = [];
  let stopCapture: () => void;
  beforeEach(() => {
    stopCapture = capturePublishedMetrics(published);
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  });
  afterEach(() => {
    stopCapture();
    vi.restoreAllMocks();
    published.length = 0;
  });

  const scope = () => ({
    logger: new Logger({ serviceName: SERVICE.chat }),
    metrics: new Metrics({ namespace: 'ClaudeServerless', serviceName: SERVICE.chat }),
  });
  const counted = () =>
    published.reduce(
      (total, line) =>
        total +
        (line.service === SERVICE.chat && typeof line.InternalErrors === 'number'
          ? line.InternalErrors
          : 0),
      0,
    );

  it("count a turn's answer not stored, usage not settled and usage not recorded", () => {
    const observer = createTurnObserver(scope());
    observer.answerNotStored(new Error('throttled'));
    observer.settlementFailed({ reservationId: 'res_1', error: new Error('throttled') } as never);
    observer.usageNotRecorded(new Error('throttled'));

    expect(counted()).toBe(3);
  });

  it("count a /v1/messages call's usage not settled and not recorded", () => {
    const observer = createMessagesObserver(scope());
    observer.settlementFailed({ reservationId: 'res_1', error: new Error('throttled') } as never);
    observer.usageNotRecorded(new Error('throttled'));

    expect(counted()).toBe(2);
  });
});
