import { randomUUID } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  composeMaintenance,
  createMaintenanceAdapters,
} from '../../functions/maintenance/compose.js';
import { settleWithin } from '../../local-stack/lambda-runtime/timeout.js';
import { createDocumentClient } from '../../shared/adapters/aws/clients.js';
import { ledgerKeys } from '../../shared/adapters/dynamodb/keys.js';
import { DynamoUsageLedger } from '../../shared/adapters/dynamodb/usage-ledger.js';
import { monthOf } from '../../shared/domain/budget.js';
import { turnHolder } from '../../shared/turns/recover-turn.js';
import { maintenanceSettings, maintenanceTable, scheduledRun } from './support/maintenance-runs.js';

const NOW = Date.now();
/** Each read of a conversation takes this long: a table slowed down after an outage. */
const CONVERSATION_READ_MS = 100;
const TIMEOUT_MS = 4_000;
/**
 * About three runs' worth of conversations to check, one after the other (a run checks for 2 s:
 * at most 20 of them), and more than a whole 4 s run could check, however fast the machine.
 */
const BACKLOG = 60;
/** Runs allowed to drain it: enough for a loaded machine's run that checks only 5. */
const MAX_RUNS = 12;

/**
 * The maintenance function with a table slower than one run can get through: every run ends
 * before its timeout and the next goes on where it stopped, the expired holds of turns it
 * checked given back, until none is left.
 */
describe('a maintenance sweep with a backlog larger than one run', () => {
  let tableName: string;
  let client: DynamoDBClient;

  beforeAll(async () => {
    ({ client, tableName } = await maintenanceTable('backlog'));
  });

  const settings = () => maintenanceSettings(tableName);

  /**
   * One invocation in a sandbox of its own, as Lambda runs it: past its timeout the sandbox
   * is frozen (no call it makes is answered) and thrown away.
   */
  async function invokeSweep(): Promise<{ ended: string; report?: unknown }> {
    let frozen = false;
    const handler = composeMaintenance(
      settings(),
      createMaintenanceAdapters(settings(), {
        observeDynamoDb: (dynamodb) =>
          dynamodb.middlewareStack.add(
            (next, context) => async (args) => {
              if (frozen) return new Promise<never>(() => {});
              if (context.commandName === 'GetItemCommand') {
                await new Promise((resolve) => setTimeout(resolve, CONVERSATION_READ_MS));
              }
              return next(args);
            },
            { step: 'initialize', name: 'slowTable' },
          ),
      }),
    );
    try {
      const settled = await settleWithin(scheduledRun(handler, TIMEOUT_MS), TIMEOUT_MS);
      return settled.timedOut
        ? { ended: 'timed out' }
        : { ended: 'returned', report: settled.value };
    } catch (error) {
      // middy's own early timeout among them.
      return { ended: `failed: ${String(error)}` };
    } finally {
      frozen = true;
    }
  }

  it('ends each run before its timeout and gives back every expired hold within a few runs', async () => {
    const documentClient = createDocumentClient(client);
    const ledger = new DynamoUsageLedger(documentClient, tableName, 1_000);
    const userId = `u-${randomUUID().slice(0, 8)}`;
    // Turns whose conversation was deleted during an outage, their holds expired since.
    for (let i = 0; i < BACKLOG; i += 25) {
      await Promise.all(
        Array.from({ length: Math.min(25, BACKLOG - i) }, () =>
          ledger.reserve({
            userId,
            amountNanoUsd: 1_000_000,
            userDefaultBudgetNanoUsd: 1_000_000_000_000,
            globalBudgetNanoUsd: 1_000_000_000_000,
            nowMs: NOW - 3_600_000,
            expiresAtMs: NOW - 1_800_000,
            holder: turnHolder(userId, randomUUID()),
          }),
        ),
      );
    }
    const held = async () =>
      Number(
        (
          await documentClient.send(
            new GetCommand({
              TableName: tableName,
              Key: ledgerKeys.userMonth(userId, monthOf(NOW - 3_600_000)),
              ConsistentRead: true,
            }),
          )
        ).Item?.heldNanoUsd,
      );
    expect(await held()).toBe(BACKLOG * 1_000_000);

    const runs: Array<{ ended: string; report?: unknown }> = [];
    while (runs.length < MAX_RUNS && (await held()) > 0) runs.push(await invokeSweep());

    expect(runs.map((run) => run.ended)).toEqual(runs.map(() => 'returned'));
    // The first run could not check them all, and said so.
    expect(runs.length).toBeGreaterThan(1);
    expect(runs[0]?.report).toMatchObject({ deferred: expect.any(Number) });
    expect((runs[0]?.report as { deferred: number } | undefined)?.deferred).toBeGreaterThan(0);
    expect(await held()).toBe(0);
  }, 90_000);
});
