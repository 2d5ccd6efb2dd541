import { describe, expect, it } from 'vitest';
import { answerOutcome } from '../../../../../functions/chat/turn/answer-outcome.js';
import type { CollectedAnswer } from '../../../../../functions/chat/turn/collect-answer.js';
import { ModelError } from '../../../../../shared/domain/errors.js';
import { estimateOutputTokens, estimateTokens } from '../../../../../shared/domain/tokens.js';
import { type TokenUsage, ZERO_USAGE } from '../../../../../shared/domain/usage.js';

const usageOf = (tokens: Partial<TokenUsage>): TokenUsage => ({ ...ZERO_USAGE, ...tokens });

const FINAL_USAGE = usageOf({ inputTokens: 50, outputTokens: 7 });
const MAX_TOKENS = 1_024;

/** An answer Claude finished: its text, final usage and stop reason. */
function collected(overrides: Partial<CollectedAnswer> = {}): CollectedAnswer {
  return {
    text: 'Hello there',
    usage: FINAL_USAGE,
    finalUsage: true,
    stopReason: 'end_turn',
    ...overrides,
  };
}

/** An answer whose stream broke after some text, before the final usage. */
function broken(error: unknown): CollectedAnswer {
  return {
    text: 'Partial answer', // 14 bytes: 4 estimated tokens
    usage: usageOf({ inputTokens: 50, outputTokens: 1 }),
    finalUsage: false,
    error,
  };
}

describe('answerOutcome', () => {
  it("keeps the model's own stop reason and final usage when it finished", () => {
    const outcome = answerOutcome(collected({ stopReason: 'max_tokens' }), undefined, MAX_TOKENS);

    expect(outcome).toEqual({
      stopReason: 'max_tokens',
      usage: FINAL_USAGE,
      usageEstimated: false,
    });
  });

  it('ends as end_turn when the stream ended cleanly without a stop reason', () => {
    const outcome = answerOutcome(collected({ stopReason: undefined }), undefined, MAX_TOKENS);

    expect(outcome.stopReason).toBe('end_turn');
    expect(outcome.failure).toBeUndefined();
  });

  it("reports the model's own error as the failure", () => {
    const error = new ModelError('overloaded', 'the model is overloaded');

    const outcome = answerOutcome(broken(error), undefined, MAX_TOKENS);

    expect(outcome).toMatchObject({ stopReason: 'error', failure: error });
  });

  it('wraps any other stream error in an api_error, keeping it as the cause', () => {
    const error = new TypeError('terminated');

    const outcome = answerOutcome(broken(error), undefined, MAX_TOKENS);

    expect(outcome.stopReason).toBe('error');
    expect(outcome.failure).toMatchObject({ kind: 'api_error', type: 'api_error', cause: error });
  });

  it('reports a stream the idle watchdog aborted as a timeout failure', () => {
    const abort = new Error('turn interrupted: idle');

    const outcome = answerOutcome(broken(abort), 'idle', MAX_TOKENS);

    expect(outcome.stopReason).toBe('error');
    expect(outcome.failure).toMatchObject({ kind: 'timeout', type: 'timeout_error', cause: abort });
  });

  it.each(['stopped', 'timeout'] as const)(
    'ends an answer interrupted by %s with that reason, not as a failure',
    (reason) => {
      const outcome = answerOutcome(
        broken(new Error(`turn interrupted: ${reason}`)),
        reason,
        MAX_TOKENS,
      );

      expect(outcome.stopReason).toBe(reason);
      expect(outcome.failure).toBeUndefined();
    },
  );

  it.each(['stopped', 'timeout', 'displaced'] as const)(
    "keeps the model's stop reason when %s came after it finished (the whole answer is there)",
    (reason) => {
      const outcome = answerOutcome(collected({ stopReason: 'end_turn' }), reason, MAX_TOKENS);

      expect(outcome).toEqual({
        stopReason: 'end_turn',
        usage: FINAL_USAGE,
        usageEstimated: false,
      });
    },
  );

  it('keeps the stop reason of a stream that finished before the idle watchdog fired', () => {
    const outcome = answerOutcome(collected({ stopReason: 'stop_sequence' }), 'idle', MAX_TOKENS);

    expect(outcome).toEqual({
      stopReason: 'stop_sequence',
      usage: FINAL_USAGE,
      usageEstimated: false,
    });
  });

  it('bills an estimate of the text that errs high when the final usage never came', () => {
    const answer = broken(new Error('dropped'));
    const outcome = answerOutcome(answer, undefined, MAX_TOKENS);

    expect(outcome.usageEstimated).toBe(true);
    expect(outcome.usage).toEqual(
      usageOf({ inputTokens: 50, outputTokens: estimateOutputTokens(answer.text) }),
    );
    expect(outcome.usage.outputTokens).toBeGreaterThanOrEqual(estimateTokens(answer.text));
  });

  it('keeps a reported output count above the estimate when the final usage never came', () => {
    const answer = { ...broken(new Error('dropped')), usage: usageOf({ outputTokens: 9 }) };

    const outcome = answerOutcome(answer, undefined, MAX_TOKENS);

    expect(outcome).toMatchObject({ usageEstimated: true, usage: { outputTokens: 9 } });
  });

  it('adds what Claude can have generated while it thought unseen, never past max_tokens', () => {
    const answer = { ...broken(new Error('stopped')), thoughtMs: 1_500 };

    expect(answerOutcome(answer, 'stopped', MAX_TOKENS).usage.outputTokens).toBe(MAX_TOKENS);
    expect(answerOutcome(answer, 'stopped', 10_000).usage.outputTokens).toBe(
      estimateOutputTokens(answer.text) + 1_500,
    );
  });

  it('never estimates more output than max_tokens: Claude bills no more (a cut 350 KB answer was billed 116,667 tokens)', () => {
    const answer = { ...broken(new Error('cut')), text: 'x'.repeat(30_000) };

    const outcome = answerOutcome(answer, undefined, 8_000);

    expect(estimateOutputTokens(answer.text)).toBe(10_000);
    expect(outcome.usage.outputTokens).toBe(8_000);
  });
});
