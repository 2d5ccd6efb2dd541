import { Metrics } from '@aws-lambda-powertools/metrics';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  recordFailedStart,
  startFailureType,
} from '../../../../../functions/chat/observability/model-call-metrics.js';
import { ModelError, UpstreamError, ValidationError } from '../../../../../shared/domain/errors.js';

/** What Powertools Metrics writes (EMF lines on stdout), as JSON. */
function capturedEmf(): () => Array<Record<string, unknown>> {
  const lines: string[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    lines.push(String(chunk));
    return true;
  });
  return () =>
    lines
      .flatMap((chunk) => chunk.split('\n'))
      .filter((line) => line.includes('"_aws"'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('startFailureType', () => {
  it('counts what the model or our access to it did wrong, by its error type', () => {
    expect(startFailureType(new ModelError('overloaded', 'busy'))).toBe('overloaded_error');
    expect(startFailureType(new ModelError('connection', 'unreachable'))).toBe('api_error');
    expect(startFailureType(new ModelError('timeout', 'slow'))).toBe('timeout_error');
    expect(startFailureType(new UpstreamError(529, 'overloaded_error', 'busy'))).toBe(
      'overloaded_error',
    );
    expect(startFailureType(new UpstreamError(429, 'rate_limit_error', 'slow down'))).toBe(
      'rate_limit_error',
    );
    // The deployment's own key refused.
    expect(startFailureType(new UpstreamError(502, 'api_error', 'refused'))).toBe('api_error');
    expect(startFailureType(new TypeError('a bug'))).toBe('api_error');
  });

  it("does not count an error response to the caller's own request", () => {
    expect(
      startFailureType(new UpstreamError(400, 'invalid_request_error', 'bad')),
    ).toBeUndefined();
    expect(
      startFailureType(new UpstreamError(404, 'not_found_error', 'no such model')),
    ).toBeUndefined();
  });

  it('counts any other error of ours under its type', () => {
    expect(startFailureType(new ValidationError('prompt too long'))).toBe('invalid_request_error');
  });
});

describe('recordFailedStart', () => {
  afterEach(() => {
    vi.restoreAllMocks();
    vi.unstubAllEnvs();
  });

  const metricsFor = () => {
    vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'false');
    vi.stubEnv('POWERTOOLS_DEV', 'false');
    return new Metrics({ namespace: 'Test', serviceName: 'chat' });
  };

  it('counts a call, a failed one, and the model error by type, as the error rate alarm reads them', () => {
    const emf = capturedEmf();
    const metrics = metricsFor();

    recordFailedStart(metrics, new ModelError('overloaded', 'busy'));
    metrics.publishStoredMetrics();

    const published = emf();
    expect(published).toContainEqual(expect.objectContaining({ Requests: 1, TurnsFailed: 1 }));
    expect(published).toContainEqual(
      expect.objectContaining({ ModelErrors: 1, ErrorType: 'overloaded_error' }),
    );
  });

  it("counts a call refused for the caller's own mistake, but not as failed", () => {
    const emf = capturedEmf();
    const metrics = metricsFor();

    recordFailedStart(metrics, new UpstreamError(400, 'invalid_request_error', 'bad'));
    metrics.publishStoredMetrics();

    const published = emf();
    expect(published).toContainEqual(expect.objectContaining({ Requests: 1, TurnsFailed: 0 }));
    expect(published.some((line) => 'ModelErrors' in line)).toBe(false);
  });
});
