import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createDynamoDbClient } from '../../../shared/adapters/aws/clients.js';
import { DynamoUsageLedger } from '../../../shared/adapters/dynamodb/usage-ledger.js';
import { DynamoUsageRecords } from '../../../shared/adapters/dynamodb/usage-records.js';
import { monthOf } from '../../../shared/domain/budget.js';
import { createApiKey } from '../support/api-keys.js';
import { partitionOf } from '../support/lost-answers.js';
import { sweepAt } from '../support/streaming-turns.js';
import { startTestStack, type TestStack } from '../support/test-stack.js';

const MODEL = 'claude-sonnet-4-6';
const month = () => monthOf(Date.now());

/**
 * A /v1/messages call whose settle fails on one month item after the answer was sent (a
 * throttled item, after the SDK's retries): the sweep bills it at the reservation's expiry,
 * and the user's month, the key's, the deployment's and the usage report then agree.
 */
describe('/v1/messages calls whose settle fails', () => {
  let stack: TestStack;
  /** Partition keys whose next settle (an update that removes a hold and adds a cost) fails. */
  const failSettleOf = new Set<string>();

  beforeAll(async () => {
    stack = await startTestStack({
      maintenance: false,
      observeChatDynamoDb: (chatClient) => {
        chatClient.middlewareStack.add(
          (next, context) => async (args) => {
            const input = args.input as { Key?: { pk?: unknown }; UpdateExpression?: string };
            const pk = partitionOf(input.Key?.pk);
            if (
              context.commandName === 'UpdateItemCommand' &&
              input.UpdateExpression?.startsWith('REMOVE #hold ADD') &&
              input.UpdateExpression.includes('spentNanoUsd') &&
              failSettleOf.delete(pk!)
            ) {
              throw Object.assign(new Error('injected throttle'), {
                name: 'ProvisionedThroughputExceededException',
                $metadata: { httpStatusCode: 400 },
              });
            }
            return next(args);
          },
          { step: 'initialize', name: 'failSettle' },
        );
      },
    });
  });
  afterAll(() => stack.close());

  for (const stream of [false, true]) {
    it(`bills a ${stream ? 'streamed' : 'whole'} answer once, on every month, by the sweep`, async () => {
      const principal = `unsettled-${stream}`;
      const { id, key } = await createApiKey(stack, { principal, monthlyBudgetUsd: 1 });
      failSettleOf.add(`APIKEY#${id}`);
      const client = new Anthropic({ baseURL: stack.url, apiKey: key, maxRetries: 0 });
      const params = {
        model: MODEL,
        max_tokens: 100,
        messages: [{ role: 'user' as const, content: 'hello [[local-claude: tokens=30]]' }],
      };
      const answer = stream
        ? await client.messages.stream(params).finalMessage()
        : await client.messages.create(params);
      expect(answer.content.length).toBeGreaterThan(0);

      const ledger = new DynamoUsageLedger(stack.documentClient, stack.tableName, 1000);
      const report = await new DynamoUsageRecords(stack.documentClient, stack.tableName).report(
        month(),
        { top: 100 },
      );
      const recorded = report.byKey.find((row) => row.name === id);
      expect(recorded?.requests).toBe(1);
      const cost = recorded!.costNanoUsd;
      expect(await ledger.keyMonth(id, month())).toMatchObject({ spentNanoUsd: 0 });
      expect(failSettleOf.size).toBe(0);

      await sweepAt(
        createDynamoDbClient(inject('dynamodbEndpoint')),
        stack.tableName,
        Date.now() + 20 * 60_000,
      );

      const counted = { spentNanoUsd: cost, heldNanoUsd: cost, requests: 1 };
      expect(await ledger.keyMonth(id, month())).toMatchObject(counted);
      expect(await ledger.userMonth(principal, month())).toMatchObject(counted);
      expect(await ledger.listReservations()).toEqual([]);
      const all = await new DynamoUsageRecords(stack.documentClient, stack.tableName).report(
        month(),
        { top: 100 },
      );
      expect(await ledger.globalMonthSpendNanoUsd(month())).toBe(
        all.byPrincipal.reduce((sum, row) => sum + row.costNanoUsd, 0),
      );
    });
  }
});
