import { type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { secondsToNextMinute } from '../../domain/budget.js';
import { RateLimitedError } from '../../domain/errors.js';
import type { RateLimiter, RateWindow } from '../../ports/rate-limiter.js';
import { isConditionFailure } from './errors.js';
import { ledgerKeys } from './keys.js';

const WINDOW_MS = 60_000;

/**
 * Fixed one-minute windows, one item per user and minute, counted with a conditional
 * ADD so concurrent requests cannot both take the last slot. Windows expire by TTL.
 */
export class DynamoRateLimiter implements RateLimiter {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly limits: { requestsPerMinute: number; tokensPerMinute: number },
  ) {}

  async admit(request: { userId: string; tokens: number; nowMs: number }): Promise<RateWindow> {
    const windowStartMs = request.nowMs - (request.nowMs % WINDOW_MS);
    const { requestsPerMinute, tokensPerMinute } = this.limits;
    if (request.tokens > tokensPerMinute) {
      throw new RateLimitedError(
        `this request's ${request.tokens} tokens exceed the limit of ${tokensPerMinute} tokens per minute; lower maxTokens`,
        60,
      );
    }
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: ledgerKeys.rateWindow(request.userId, windowStartMs),
          UpdateExpression: 'ADD requests :one, tokens :tokens SET expiresAt = :expiresAt',
          ConditionExpression:
            'attribute_not_exists(requests) OR (requests < :maxRequests AND tokens <= :maxTokens)',
          ExpressionAttributeValues: {
            ':one': 1,
            ':tokens': request.tokens,
            ':maxRequests': requestsPerMinute,
            ':maxTokens': tokensPerMinute - request.tokens,
            ':expiresAt': Math.ceil((windowStartMs + 2 * WINDOW_MS) / 1000),
          },
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      throw new RateLimitedError(
        `rate limit reached: ${requestsPerMinute} requests and ${tokensPerMinute} tokens per minute`,
        secondsToNextMinute(request.nowMs),
      );
    }
    return { userId: request.userId, windowStartMs };
  }

  async adjust(window: RateWindow, tokenDelta: number): Promise<void> {
    if (tokenDelta === 0) return;
    await this.client
      .send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: ledgerKeys.rateWindow(window.userId, window.windowStartMs),
          UpdateExpression: 'ADD tokens :delta',
          ConditionExpression: 'attribute_exists(requests)',
          ExpressionAttributeValues: { ':delta': tokenDelta },
        }),
      )
      .catch((error: unknown) => {
        // The window already expired: nothing left to correct.
        if (!isConditionFailure(error)) throw error;
      });
  }
}
