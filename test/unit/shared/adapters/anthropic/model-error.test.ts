import Anthropic from '@anthropic-ai/sdk';
import { Logger } from '@aws-lambda-powertools/logger';
import { describe, expect, it, vi } from 'vitest';
import {
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
