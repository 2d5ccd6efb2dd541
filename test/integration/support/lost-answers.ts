import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';

const WRITES = ['PutItemCommand', 'UpdateItemCommand', 'TransactWriteItemsCommand'];

/**
 * Loses the answer to the next write landed on a chosen partition, as a timeout or a reset
 * connection would: the write reaches DynamoDB (Local), then the client sees a
 * `TimeoutError`, so the SDK sends it again.
 */
export function loseAnswers(client: DynamoDBClient) {
  /** Partition keys whose next landed write has its answer lost. */
  const nextOf = new Set<string>();
  const state = { nextOf, lost: 0 };
  // Inside the SDK's retries, after the request reached DynamoDB.
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const result = await next(args);
      const input = args.input as {
        Key?: { pk?: unknown };
        Item?: { pk?: unknown };
        TransactItems?: Array<{ Update?: { Key?: { pk?: unknown } } }>;
      };
      const written = partitionOf(
        input.Key?.pk ?? input.Item?.pk ?? input.TransactItems?.[0]?.Update?.Key?.pk,
      );
      // Only a write that landed: a refused one (a failed condition) is answered with a 400.
      const landed = (result.response as { statusCode?: number }).statusCode === 200;
      if (landed && WRITES.includes(String(context.commandName)) && nextOf.delete(written!)) {
        state.lost++;
        throw Object.assign(new Error('injected lost answer'), { name: 'TimeoutError' });
      }
      return result;
    },
    { step: 'deserialize', name: 'loseAnswer' },
  );
  return state;
}

/** A key's partition, as the document client or the low-level client gives it. */
export function partitionOf(pk: unknown): string | undefined {
  return typeof pk === 'string' ? pk : (pk as { S?: string } | undefined)?.S;
}
