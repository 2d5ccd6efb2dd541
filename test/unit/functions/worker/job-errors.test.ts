import { describe, expect, it } from 'vitest';
import {
  classifyFailure,
  PermanentJobError,
  retryDelaySeconds,
} from '../../../../functions/worker/job-errors.js';
import {
  BudgetExceededError,
  ModelError,
  NotFoundError,
  PayloadTooLargeError,
  ValidationError,
} from '../../../../shared/domain/errors.js';

describe('classifyFailure', () => {
  it('retries throttling, overload and outages', () => {
    for (const kind of [
      'overloaded',
      'rate_limited',
      'timeout',
      'connection',
      'api_error',
    ] as const) {
      expect(classifyFailure(new ModelError(kind, 'x'))).toMatchObject({
        retryable: true,
        deadLetter: false,
      });
    }
  });

  it('fails a job over budget for good, without dead-lettering a message that is fine', () => {
    expect(classifyFailure(new BudgetExceededError('no money'))).toEqual({
      type: 'billing_error',
      message: 'no money',
      retryable: false,
      deadLetter: false,
    });
  });

  it('fails a job whose result is too large to store for good: a retry would pay for it again, and be refused again', () => {
    const tooLarge = new PayloadTooLargeError('the summary (410000 bytes) is too large to store');
    expect(classifyFailure(tooLarge)).toEqual({
      type: 'request_too_large',
      message: tooLarge.message,
      retryable: false,
      deadLetter: false,
    });
  });

  it('retries a job refused only for what calls in flight hold: they settle, and it may fit', () => {
    const refusal = new BudgetExceededError('held', { heldByCallsInFlight: true });

    expect(classifyFailure(refusal)).toEqual({
      type: 'billing_error',
      message: 'held',
      retryable: true,
      deadLetter: false,
      retryAfterSeconds: 300,
      failsWhenRetriesRunOut: true,
    });
  });

  it('fails a compaction of a conversation that is gone for good, without dead-lettering it', () => {
    expect(classifyFailure(new NotFoundError('gone'))).toEqual({
      type: 'not_found_error',
      message: 'gone',
      retryable: false,
      deadLetter: false,
    });
  });

  it("retries a job the API refused for the deployment's key or account (out of credit too): an operator fixes those, and its last delivery dead-letters it, alarmed", () => {
    for (const kind of ['authentication', 'billing'] as const) {
      expect(classifyFailure(new ModelError(kind, 'x')), kind).toMatchObject({
        retryable: true,
        deadLetter: false,
      });
    }
  });

  it('dead-letters what can never succeed: a message at fault, a request the model rejects', () => {
    expect(classifyFailure(new PermanentJobError('invalid_request_error', 'bad'))).toMatchObject({
      retryable: false,
      deadLetter: true,
    });
    expect(classifyFailure(new ValidationError('bad'))).toMatchObject({
      retryable: false,
      deadLetter: true,
    });
    expect(classifyFailure(new ModelError('invalid_request', 'too long'))).toMatchObject({
      retryable: false,
      deadLetter: true,
    });
    // A model the API does not know (retired): it was retried five times as "the model failed".
    expect(classifyFailure(new ModelError('model_unavailable', 'retired'))).toMatchObject({
      type: 'not_found_error',
      retryable: false,
      deadLetter: true,
    });
  });

  it('retries an unknown error without exposing it', () => {
    expect(classifyFailure(new TypeError('secret detail'))).toEqual({
      type: 'api_error',
      message: 'the job failed unexpectedly',
      retryable: true,
      deadLetter: false,
    });
  });
});

describe('retryDelaySeconds', () => {
  it('doubles per attempt and stops at 15 minutes', () => {
    expect([1, 2, 3, 4].map((n) => retryDelaySeconds(30, n))).toEqual([30, 60, 120, 240]);
    expect(retryDelaySeconds(30, 12)).toBe(900);
  });

  it("waits at least the provider's retry-after, and never less than the back-off for it", () => {
    expect([1, 2, 3, 4].map((n) => retryDelaySeconds(30, n, 1))).toEqual([30, 60, 120, 240]);
    expect(retryDelaySeconds(30, 1, 90.5)).toBe(91);
    expect(retryDelaySeconds(30, 1, 3600)).toBe(900);
  });
});
