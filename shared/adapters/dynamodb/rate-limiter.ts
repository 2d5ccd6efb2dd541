import { type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { secondsToNextMinute } from '../../domain/budget.js';
import { RateLimitedError, ValidationError } from '../../domain/errors.js';
import { rateLimitReachedMessage } from '../../domain/rate-limits.js';
import type { RateLimiter, RateSubject, RateWindow } from '../../ports/rate-limiter.js';
import { isConditionFailure } from './errors.js';
import { apiKeyKeys, ledgerKeys } from './keys.js';

const WINDOW_MS = 60_000;

/**
 * Fixed one-minute windows, one item per subject and minute, counted with a conditional
 * ADD so concurrent requests cannot both take the last slot. Windows expire by TTL.
 */
export class DynamoRateLimiter implements RateLimiter {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async admit(request: Parameters<RateLimiter['admit']>[0]): Promise<RateWindow> {
    const { subject, limits, tokens, nowMs } = request;
    const windowStartMs = nowMs - (nowMs % WINDOW_MS);
    if (tokens > limits.tokensPerMinute) throw tooManyTokens(tokens, limits.tokensPerMinute);
    try {
      const { Attributes } = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: windowKey(subject, windowStartMs),
          UpdateExpression: 'ADD requests :one, tokens :tokens SET expiresAt = :expiresAt',
          ConditionExpression:
            'attribute_not_exists(requests) OR (requests < :maxRequests AND tokens <= :maxTokens)',
          ExpressionAttributeValues: {
            ':one': 1,
            ':tokens': tokens,
            ':maxRequests': limits.requestsPerMinute,
            ':maxTokens': limits.tokensPerMinute - tokens,
            ':expiresAt': Math.ceil((windowStartMs + 2 * WINDOW_MS) / 1000),
          },
          ReturnValues: 'UPDATED_NEW',
        }),
      );
      return {
        subject,
        windowStartMs,
        limits,
        requests: Number(Attributes?.requests ?? 1),
        tokens: Number(Attributes?.tokens ?? tokens),
      };
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      throw new RateLimitedError(rateLimitReachedMessage(limits), secondsToNextMinute(nowMs));
    }
  }

  async adjust(window: RateWindow, tokenDelta: number): Promise<void> {
    if (tokenDelta === 0) return;
    await this.add(window, { tokens: tokenDelta, requests: 0 });
  }

  async withdraw(window: RateWindow, tokens: number): Promise<void> {
    await this.add(window, { tokens: -tokens, requests: -1 });
  }

  private async add(window: RateWindow, delta: { tokens: number; requests: number }) {
    await this.client
      .send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: windowKey(window.subject, window.windowStartMs),
          UpdateExpression: 'ADD tokens :tokens, requests :requests',
          ConditionExpression: 'attribute_exists(requests)',
          ExpressionAttributeValues: { ':tokens': delta.tokens, ':requests': delta.requests },
        }),
      )
      .catch((error: unknown) => {
        // The window already expired: nothing left to correct.
        if (!isConditionFailure(error)) throw error;
      });
  }
}

function windowKey(subject: RateSubject, windowStartMs: number) {
  const [kind, id] = splitSubject(subject);
  return kind === 'key'
    ? apiKeyKeys.rateWindow(id, windowStartMs)
    : ledgerKeys.rateWindow(id, windowStartMs);
}

function splitSubject(subject: RateSubject): ['user' | 'key', string] {
  const colon = subject.indexOf(':');
  return [subject.slice(0, colon) as 'user' | 'key', subject.slice(colon + 1)];
}

/** Waiting never lets such a request through: it is a bad request, not a busy minute (the SDKs retry a 429). */
function tooManyTokens(tokens: number, tokensPerMinute: number): ValidationError {
  return new ValidationError(
    `this request's ${tokens} tokens (estimated prompt + maximum output) exceed the limit of ${tokensPerMinute} tokens per minute; lower the output token limit or shorten the prompt`,
  );
}
