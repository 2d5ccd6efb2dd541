import { ProvisionedThroughputExceededException } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { answerFor } from '../../../../../functions/chat/http/error-response.js';

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
