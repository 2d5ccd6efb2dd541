import { ProvisionedThroughputExceededException } from '@aws-sdk/client-dynamodb';
import { errors } from 'jose';
import { describe, expect, it } from 'vitest';
import { answerFor } from '../../../../../functions/chat/http/error-response.js';
import { KeySetUnavailableError } from '../../../../../shared/auth/key-set-unavailable-error.js';
import { UpstreamError } from '../../../../../shared/domain/errors.js';

const metadata = (httpStatusCode: number) => ({ $metadata: { httpStatusCode } });

/** What the AWS SDK throws once its retries are spent. */
const dependencyFailures: Array<[string, Error]> = [
  [
    'a throttled table',
    new ProvisionedThroughputExceededException({ message: 'slow down', ...metadata(400) }),
  ],
  [
    'a request timeout',
    Object.assign(new Error('no answer within 3000 ms'), { name: 'TimeoutError' }),
  ],
  [
    'a refused connection',
    Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
  ],
  ['a 500 of the service', Object.assign(new Error('InternalServerError'), metadata(500))],
  [
    'a throttled secret read, as Powertools Parameters wraps it',
    Object.assign(
      new Error('Rate exceeded', {
        cause: Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }),
      }),
      { name: 'GetParameterError' },
    ),
  ],
  [
    'an OIDC issuer whose JWKS does not answer',
    new KeySetUnavailableError("the token issuer's key set could not be used", {
      cause: new errors.JWKSTimeout(),
    }),
  ],
];

describe('answerFor', () => {
  it.each(dependencyFailures)('answers %s with 503 and a retry-after', (_, error) => {
    expect(answerFor(error)).toEqual({
      status: 503,
      type: 'api_error',
      message: 'a service this API depends on is unavailable or throttling; retry shortly',
      headers: { 'retry-after': '1' },
    });
  });

  it("passes an upstream error's details and x-should-retry on with its status and type", () => {
    const error = new UpstreamError(400, 'invalid_request_error', 'tool names conflict', {
      shouldRetry: false,
      details: { error_code: 'tool_name_conflict' },
    });

    expect(answerFor(error)).toEqual({
      status: 400,
      type: 'invalid_request_error',
      message: 'tool names conflict',
      details: { error_code: 'tool_name_conflict' },
      headers: { 'x-should-retry': 'false' },
    });
  });

  it('keeps retry-after beside x-should-retry: true', () => {
    const error = new UpstreamError(529, 'overloaded_error', 'Overloaded', {
      retryAfterSeconds: 3,
      shouldRetry: true,
    });

    expect(answerFor(error).headers).toEqual({ 'retry-after': '3', 'x-should-retry': 'true' });
  });

  it('answers a bug of ours with 500, saying nothing of it', () => {
    for (const error of [new TypeError('x is undefined'), new RangeError('too deep'), 'thrown']) {
      expect(answerFor(error)).toEqual({
        status: 500,
        type: 'api_error',
        message: 'Internal server error',
      });
    }
  });
});
