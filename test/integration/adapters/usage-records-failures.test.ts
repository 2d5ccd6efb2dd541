import { randomUUID } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { ensureTable } from '../../../local-stack/dynamodb/create-table.js';
import { ensureLocalAwsEnv } from '../../../local-stack/function-env.js';
import {
  createDocumentClient,
  createDynamoDbClient,
} from '../../../shared/adapters/aws/clients.js';
import { usageRecordKeys } from '../../../shared/adapters/dynamodb/keys.js';
import { DynamoUsageRecords } from '../../../shared/adapters/dynamodb/usage-records.js';
import type { UsageRecord } from '../../../shared/ports/usage-records.js';
import { loseAnswers } from '../support/lost-answers.js';

const MONTH = '2026-11';

function recordOf(fields: Partial<UsageRecord> = {}): UsageRecord {
  return {
    requestId: `req_${randomUUID()}`,
    at: '2026-11-15T10:00:00.000Z',
    principal: `p-${randomUUID().slice(0, 8)}`,
    api: 'messages',
    model: 'claude-sonnet-4-6',
    usage: {
      inputTokens: 100,
      outputTokens: 20,
      cacheReadInputTokens: 0,
      cacheCreationInputTokens: 0,
    },
    costNanoUsd: 1_000,
    latencyMs: 850,
    stopReason: 'end_turn',
    cacheHit: false,
    ...fields,
  };
}

/** The DynamoDB adapter on DynamoDB Local when a write lands but its answer is lost. */
describe('DynamoUsageRecords', () => {
  let client: DynamoDBClient;
  let lostAnswers: ReturnType<typeof loseAnswers>;
  let records: DynamoUsageRecords;
  let tableName: string;

  beforeAll(() => {
    ensureLocalAwsEnv();
    client = createDynamoDbClient(inject('dynamodbEndpoint'));
    lostAnswers = loseAnswers(client);
  });
  beforeEach(async () => {
    lostAnswers.nextOf.clear();
    lostAnswers.lost = 0;
    tableName = `usage-records-failures-${randomUUID().slice(0, 8)}`;
    await ensureTable(client, tableName);
    records = new DynamoUsageRecords(createDocumentClient(client), tableName);
  });

  const principalRow = async (principal: string) =>
    (await records.report(MONTH, { top: 10 })).byPrincipal.find((row) => row.name === principal);

  it("counts a request in the report once when its record's put is sent again", async () => {
    const record = recordOf();
    lostAnswers.nextOf.add(usageRecordKeys.record(record.principal, MONTH, record.at, '').pk);

    await records.record(record);

    expect(lostAnswers.lost).toBe(1);
    expect(await principalRow(record.principal)).toMatchObject({ requests: 1, costNanoUsd: 1_000 });
  });

  it("counts a turn's recovery once when its put is sent again after the turn's own record replaced it", async () => {
    const recovered = recordOf({ api: 'chat', recovered: true });
    const own: UsageRecord = {
      ...recovered,
      usage: { ...recovered.usage, outputTokens: 30 },
      costNanoUsd: 1_500,
      recovered: undefined,
    };
    // The recovery's put lands, its answer is lost, and meanwhile the turn's function, only
    // stalled, records its own; then the SDK sends the recovery's put again.
    const recovery = createDynamoDbClient(inject('dynamodbEndpoint'));
    const turn = new DynamoUsageRecords(createDocumentClient(client), tableName);
    let lost = false;
    recovery.middlewareStack.add(
      (next, context) => async (args) => {
        const result = await next(args);
        if (!lost && context.commandName === 'PutItemCommand') {
          lost = true;
          await turn.record(own);
          throw Object.assign(new Error('injected lost answer'), { name: 'TimeoutError' });
        }
        return result;
      },
      { step: 'deserialize', name: 'loseAnswerWhileTheTurnRecords' },
    );

    await new DynamoUsageRecords(createDocumentClient(recovery), tableName).record(recovered);

    expect(lost).toBe(true);
    expect(await principalRow(recovered.principal)).toMatchObject({
      requests: 1,
      outputTokens: 30,
      costNanoUsd: 1_500,
    });
  });
});
