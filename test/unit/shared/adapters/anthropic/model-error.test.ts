import Anthropic from '@anthropic-ai/sdk';
import { Logger } from '@aws-lambda-powertools/logger';
import { describe, expect, it, vi } from 'vitest';
import { refusesTheAccount } from '../../../../../shared/adapters/anthropic/account-refusal.js';
import {
  modelErrorOfType,
  toModelError,
  UpstreamFailure,
} from '../../../../../shared/adapters/anthropic/model-error.js';
import { ModelError } from '../../../../../shared/domain/errors.js';

const overloaded = () =>
  Anthropic.APIError.generate(
    529,
    { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } },
    undefined,
    new Headers({
      'request-id': 'req_011overloaded',
      'retry-after': '7',
      'anthropic-ratelimit-tokens-remaining': '4242424',
      'set-cookie': 'session=cookie-from-upstream',
    }),
  );

/** The line a Powertools logger, as it runs on Lambda, writes for `fields`. */
function logged(fields: Record<string, unknown>): { line: string; json: Record<string, unknown> } {
  vi.stubEnv('POWERTOOLS_DEV', 'false');
  const lines: string[] = [];
  const capture = (chunk: string | Uint8Array) => {
    lines.push(String(chunk));
    return true;
  };
  vi.spyOn(process.stdout, 'write').mockImplementation(capture);
  vi.spyOn(process.stderr, 'write').mockImplementation(capture);
  try {
    new Logger({ serviceName: 'model-error-test', logLevel: 'INFO' }).warn('failed', fields);
  } finally {
    vi.restoreAllMocks();
    vi.unstubAllEnvs();
  }
  const line = lines.join('').trim();
  return { line, json: JSON.parse(line) as Record<string, unknown> };
}

describe('toModelError', () => {
  it('classifies an API error and keeps its wait', () => {
    const error = toModelError(overloaded());

    expect(error).toBeInstanceOf(ModelError);
    expect(error).toMatchObject({ kind: 'overloaded', type: 'overloaded_error' });
    expect(error.retryAfterSeconds).toBe(7);
  });

  it('keeps as its cause the status, type and request id, not the headers or the body', () => {
    const error = toModelError(overloaded());

    expect(error.cause).toBeInstanceOf(UpstreamFailure);
    expect({ ...(error.cause as UpstreamFailure) }).toEqual({
      name: 'OverloadedError',
      status: 529,
      type: 'overloaded_error',
      requestId: 'req_011overloaded',
    });
    expect((error.cause as Error).message).toBe('Overloaded');
  });

  it('logs no header of the upstream response', () => {
    const { line, json } = logged({ error: toModelError(overloaded()) });

    expect(json.error).toMatchObject({
      name: 'ModelError',
      cause: { name: 'OverloadedError', status: 529, requestId: 'req_011overloaded' },
    });
    expect(line).not.toContain('4242424');
    expect(line).not.toContain('cookie-from-upstream');
    expect(line).not.toContain('headers');
  });

  it('cuts a long upstream message', () => {
    const said = `prompt is too long: ${'x'.repeat(2_000)}`;
    const error = toModelError(
      Anthropic.APIError.generate(
        400,
        { type: 'error', error: { type: 'invalid_request_error', message: said } },
        undefined,
        new Headers(),
      ),
    );

    expect(error.kind).toBe('invalid_request');
    expect((error.cause as Error).message).toHaveLength(501);
    expect((error.cause as Error).message.startsWith('prompt is too long: xxx')).toBe(true);
  });
});

/** The Anthropic API's 400 with these words, as the SDK raises it. */
const refused = (message: string) =>
  Anthropic.APIError.generate(
    400,
    { type: 'error', error: { type: 'invalid_request_error', message } },
    undefined,
    new Headers({ 'request-id': 'req_011refused' }),
  );

describe("a request the API refuses: what the caller is told of the API's words", () => {
  it('says how long the prompt was and how much the model takes, when it was too long', () => {
    const error = toModelError(refused('prompt is too long: 208656 tokens > 200000 maximum'));

    expect(error).toMatchObject({ kind: 'invalid_request', type: 'invalid_request_error' });
    expect(error.message).toBe(
      "the model rejected the request: the prompt is 208656 tokens, more than the model's 200000",
    );
    // For a turn to ask again with less of its history.
    expect(error.contextOverflow).toEqual({ promptTokens: 208656, contextTokens: 200000 });
  });

  it('says so too when the prompt and the room for the answer are over the context window', () => {
    const error = toModelError(
      refused(
        'input length and `max_tokens` exceed context limit: 199759 + 8192 > 200000, decrease input length or `max_tokens` and try again',
      ),
    );

    expect(error.message).toBe(
      "the model rejected the request: the prompt is 199759 tokens, too long for the model's 200000 with room for its answer",
    );
    // Our max_tokens is the deployment's setting, not the caller's.
    expect(error.message).not.toContain('8192');
    expect(error.contextOverflow).toEqual({ promptTokens: 199759, contextTokens: 200000 });
  });

  it('gives no token counts for any other refusal', () => {
    expect(toModelError(refused('messages: text content blocks must be non-empty'))).toMatchObject({
      kind: 'invalid_request',
      contextOverflow: undefined,
    });
  });

  it('says the same of a batch request the API refused for its length', () => {
    expect(
      modelErrorOfType(
        'invalid_request_error',
        'prompt is too long: 215000 tokens > 200000 maximum',
      ).message,
    ).toBe(
      "the model rejected the request: the prompt is 215000 tokens, more than the model's 200000",
    );
  });

  it("takes the 400 the API sends for an account out of credit for the deployment's billing refusal, not the caller's bad request", () => {
    const error = toModelError(
      refused(
        'Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to upgrade or purchase credits.',
      ),
    );

    expect(error).toMatchObject({
      kind: 'billing',
      type: 'api_error',
      message: "the model provider refused to bill this deployment's account",
    });
    expect(modelErrorOfType('invalid_request_error', 'Your credit balance is too low.').kind).toBe(
      'billing',
    );
  });

  it("leaves a caller's own bad request theirs when the API quotes words of theirs that read as the account's", () => {
    // The API echoes an unknown content block type; /v1/messages passes block types on as sent.
    const quoted =
      "messages.0.content.0: Input tag 'Your credit balance is too low' found using 'type' does not match any of the expected tags: 'text', 'image', 'document'";

    expect(refusesTheAccount(400, quoted)).toBe(false);
    expect(toModelError(refused(quoted))).toMatchObject({
      kind: 'invalid_request',
      type: 'invalid_request_error',
      message: 'the model rejected the request',
    });
  });

  it.each([
    // The deployment's settings.
    'max_tokens: 100000 > 64000, which is the maximum allowed number of output tokens for claude-sonnet-4-6',
    // The request we built, quoted.
    'messages.0.content.0.text: the system prompt says SECRET-INSTRUCTIONS',
    // The known words with anything else after them.
    'prompt is too long: 208656 tokens > 200000 maximum; sk-ant-api03-leaked',
    `prompt is too long: ${'9'.repeat(40)} tokens > 200000 maximum`,
  ])('says no more than that the model rejected it for any other words: %s', (said) => {
    const error = toModelError(refused(said));

    expect(error.message).toBe('the model rejected the request');
    // The log keeps them.
    expect((error.cause as UpstreamFailure).requestId).toBe('req_011refused');
    expect((error.cause as Error).message).toBe(
      said.slice(0, 500) + (said.length > 500 ? '…' : ''),
    );
  });
});

describe('a model the API does not know (retired)', () => {
  const notFound = () =>
    Anthropic.APIError.generate(
      404,
      { type: 'error', error: { type: 'not_found_error', message: 'model: claude-sonnet-4-5' } },
      undefined,
      new Headers({ 'request-id': 'req_011notfound' }),
    );

  it('is refused for good, named in our words (it was "the model failed", retryable)', () => {
    const error = toModelError(notFound(), 'claude-sonnet-4-5');

    expect(error).toMatchObject({ kind: 'model_unavailable', type: 'not_found_error' });
    expect(error.retryable).toBe(false);
    expect(error.message).toBe(
      'the model "claude-sonnet-4-5" is not available: the Anthropic API does not know it (retired, or never one); ask with another model',
    );
    expect(error.cause).toMatchObject({ status: 404, requestId: 'req_011notfound' });
  });

  it("is so too as a batch request's result, by its type", () => {
    expect(modelErrorOfType('not_found_error', 'model: claude-sonnet-4-5')).toMatchObject({
      kind: 'model_unavailable',
      message:
        'the model is not available: the Anthropic API does not know it (retired, or never one); ask with another model',
    });
  });
});
