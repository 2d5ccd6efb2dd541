import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';

/** One DynamoDB request as the client sent it: its operation and when it was in flight (epoch ms). */
export interface DynamoDbCall {
  operation: string;
  startedAt: number;
  endedAt: number;
}

/** Records every request the client sends (a middleware on its stack), in order. */
export function recordDynamoDbCalls(client: DynamoDBClient, calls: DynamoDbCall[]): void {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const startedAt = performance.timeOrigin + performance.now();
      try {
        return await next(args);
      } finally {
        calls.push({
          operation: String(context.commandName ?? 'unknown').replace(/Command$/, ''),
          startedAt,
          endedAt: performance.timeOrigin + performance.now(),
        });
      }
    },
    { step: 'initialize', name: 'recordDynamoDbCalls' },
  );
}

/**
 * How many round trips happened one after another: the longest chain of calls in which
 * each started only after the one before it ended. Calls in flight together are one.
 */
export function sequentialRoundTrips(calls: readonly DynamoDbCall[]): number {
  const byStart = [...calls].sort((a, b) => a.startedAt - b.startedAt);
  const depth: number[] = [];
  byStart.forEach((call, i) => {
    depth[i] =
      1 +
      Math.max(
        0,
        ...byStart
          .slice(0, i)
          .flatMap((earlier, j) => (earlier.endedAt <= call.startedAt ? [depth[j]!] : [])),
      );
  });
  return Math.max(0, ...depth);
}

/** One DynamoDB request's operation and input, as the client sent it (marshalled). */
export interface DynamoDbRequest {
  operation: string;
  input: Record<string, unknown>;
}

/** Records the input of every request the client sends, in order. */
export function recordDynamoDbRequests(client: DynamoDBClient, requests: DynamoDbRequest[]): void {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      requests.push({
        operation: String(context.commandName ?? 'unknown').replace(/Command$/, ''),
        input: args.input as Record<string, unknown>,
      });
      return next(args);
    },
    { step: 'initialize', name: 'recordDynamoDbRequests' },
  );
}
