import { randomUUID } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import type { TokenUsage } from '../../shared/domain/usage.js';
import type {
  UsageRecord,
  UsageRecords,
  UsageReport,
  UsageTotals,
} from '../../shared/ports/usage-records.js';

export interface UsageRecordsSubject {
  /** Records with nothing in them: a report sees every record of its month. */
  records: UsageRecords;
}

const NOVEMBER = '2026-11';
const AT = '2026-11-15T10:00:00.000Z';
const SONNET = 'claude-sonnet-4-6';
const HAIKU = 'claude-haiku-4-5';
const OPUS = 'claude-opus-4-1';

const USAGE: TokenUsage = {
  inputTokens: 100,
  outputTokens: 20,
  cacheReadInputTokens: 10,
  cacheCreationInputTokens: 4,
};

function recordOf(fields: Partial<UsageRecord> = {}): UsageRecord {
  return {
    requestId: `req_${randomUUID()}`,
    at: AT,
    principal: 'alice',
    api: 'messages',
    model: SONNET,
    usage: USAGE,
    costNanoUsd: 1_000,
    latencyMs: 850,
    stopReason: 'end_turn',
    cacheHit: false,
    ...fields,
  };
}

/** The totals of `requests` records of the default usage. */
function rowOf(
  name: string,
  requests: number,
  fields: Partial<Pick<UsageTotals, 'cacheHits' | 'cacheCreation1hInputTokens' | 'costNanoUsd'>>,
): UsageTotals {
  return {
    name,
    requests,
    cacheHits: 0,
    inputTokens: USAGE.inputTokens * requests,
    outputTokens: USAGE.outputTokens * requests,
    cacheReadInputTokens: USAGE.cacheReadInputTokens * requests,
    cacheCreationInputTokens: USAGE.cacheCreationInputTokens * requests,
    cacheCreation1hInputTokens: 0,
    costNanoUsd: 0,
    ...fields,
  };
}

const namesOf = (rows: UsageTotals[]) => rows.map((row) => row.name);

/**
 * The UsageRecords port's behaviour, for the in-memory fake and the DynamoDB adapter.
 * `subject` is called before every test and must return empty records.
 */
export function usageRecordsContract(subject: () => Promise<UsageRecordsSubject>) {
  let records: UsageRecords;
  beforeEach(async () => {
    ({ records } = await subject());
  });

  const recordAll = async (list: UsageRecord[]) => {
    for (const record of list) await records.record(record);
  };

  describe('report', () => {
    it("sums a month's records per principal, key and model, highest cost first", async () => {
      const kinds = [
        { principal: 'alice', keyId: 'key_alice_1', model: SONNET, costNanoUsd: 1_000 },
        { principal: 'alice', keyId: 'key_alice_2', model: HAIKU, costNanoUsd: 100 },
        {
          principal: 'bob',
          model: SONNET,
          costNanoUsd: 400,
          usage: { ...USAGE, cacheCreation1hInputTokens: 3 },
        },
        { principal: 'carol', keyId: 'key_carol', model: OPUS, costNanoUsd: 0, cacheHit: true },
      ];
      await recordAll([...kinds, ...kinds, ...kinds].map((kind) => recordOf(kind)));

      const report = await records.report(NOVEMBER, { top: 10 });

      expect(report).toStrictEqual<UsageReport>({
        month: NOVEMBER,
        byPrincipal: [
          rowOf('alice', 6, { costNanoUsd: 3_300 }),
          rowOf('bob', 3, { costNanoUsd: 1_200, cacheCreation1hInputTokens: 9 }),
          rowOf('carol', 3, { cacheHits: 3 }),
        ],
        byKey: [
          rowOf('key_alice_1', 3, { costNanoUsd: 3_000 }),
          rowOf('key_alice_2', 3, { costNanoUsd: 300 }),
          rowOf('key_carol', 3, { cacheHits: 3 }),
        ],
        byModel: [
          rowOf(SONNET, 6, { costNanoUsd: 4_200, cacheCreation1hInputTokens: 9 }),
          rowOf(HAIKU, 3, { costNanoUsd: 300 }),
          rowOf(OPUS, 3, { cacheHits: 3 }),
        ],
      });
    });

    it('cuts each list to the top N by cost, names in order when costs tie', async () => {
      await recordAll([
        recordOf({ principal: 'p-c', keyId: 'k-c', model: 'm-c', costNanoUsd: 500 }),
        recordOf({ principal: 'p-a', keyId: 'k-a', model: 'm-a', costNanoUsd: 500 }),
        recordOf({ principal: 'p-b', keyId: 'k-b', model: 'm-b', costNanoUsd: 900 }),
        recordOf({ principal: 'p-d', keyId: 'k-d', model: 'm-d', costNanoUsd: 100 }),
      ]);

      const report = await records.report(NOVEMBER, { top: 3 });

      expect(namesOf(report.byPrincipal)).toEqual(['p-b', 'p-a', 'p-c']);
      expect(namesOf(report.byKey)).toEqual(['k-b', 'k-a', 'k-c']);
      expect(namesOf(report.byModel)).toEqual(['m-b', 'm-a', 'm-c']);
    });

    it('counts the records served from the cache as hits among all requests', async () => {
      await recordAll([
        recordOf({ cacheHit: true, costNanoUsd: 0 }),
        recordOf(),
        recordOf({ costNanoUsd: 500 }),
      ]);

      const { byPrincipal } = await records.report(NOVEMBER, { top: 10 });

      expect(byPrincipal).toStrictEqual([rowOf('alice', 3, { cacheHits: 1, costNanoUsd: 1_500 })]);
    });

    it('leaves records without a key out of the keys, and counts them elsewhere', async () => {
      await recordAll([recordOf(), recordOf({ api: 'chat' })]);

      const report = await records.report(NOVEMBER, { top: 10 });

      expect(report.byKey).toEqual([]);
      expect(report.byPrincipal).toStrictEqual([rowOf('alice', 2, { costNanoUsd: 2_000 })]);
      expect(report.byModel).toStrictEqual([rowOf(SONNET, 2, { costNanoUsd: 2_000 })]);
    });

    it('keeps a principal, a key and a model of the same name apart', async () => {
      await records.record(recordOf({ principal: 'same', keyId: 'same', model: 'same' }));

      const report = await records.report(NOVEMBER, { top: 10 });

      const row = rowOf('same', 1, { costNanoUsd: 1_000 });
      expect(report).toStrictEqual({
        month: NOVEMBER,
        byPrincipal: [row],
        byKey: [row],
        byModel: [row],
      });
    });

    it('reports each UTC month on its own', async () => {
      await recordAll([
        recordOf({ at: '2026-10-31T23:59:59.999Z', costNanoUsd: 10 }),
        recordOf({ at: '2026-11-01T00:30:00.000+01:00', costNanoUsd: 5 }),
        recordOf({ at: '2026-11-01T00:00:00.000Z', costNanoUsd: 20 }),
        recordOf({ at: '2026-12-01T00:00:00.000Z', costNanoUsd: 40 }),
      ]);

      const october = await records.report('2026-10', { top: 10 });
      const november = await records.report(NOVEMBER, { top: 10 });

      expect(october.byPrincipal).toStrictEqual([rowOf('alice', 2, { costNanoUsd: 15 })]);
      expect(november.byPrincipal).toStrictEqual([rowOf('alice', 1, { costNanoUsd: 20 })]);
    });

    it('reports a month without records as empty lists', async () => {
      await records.record(recordOf());

      expect(await records.report('2026-09', { top: 10 })).toStrictEqual({
        month: '2026-09',
        byPrincipal: [],
        byKey: [],
        byModel: [],
      });
    });
  });

  describe('record', () => {
    it('counts a request recorded again once, even when both arrive at the same moment', async () => {
      const once = recordOf({ keyId: 'key_alice_1' });
      const racing = recordOf({ keyId: 'key_alice_1' });

      await records.record(once);
      await records.record(once);
      await Promise.all([records.record(racing), records.record(racing)]);

      const report = await records.report(NOVEMBER, { top: 10 });
      expect(report.byPrincipal).toStrictEqual([rowOf('alice', 2, { costNanoUsd: 2_000 })]);
      expect(report.byKey).toStrictEqual([rowOf('key_alice_1', 2, { costNanoUsd: 2_000 })]);
      expect(report.byModel).toStrictEqual([rowOf(SONNET, 2, { costNanoUsd: 2_000 })]);
    });

    it('counts two requests of the same moment apart by their request ids', async () => {
      await recordAll([recordOf({ requestId: 'req_1' }), recordOf({ requestId: 'req_2' })]);

      const { byPrincipal } = await records.report(NOVEMBER, { top: 10 });

      expect(byPrincipal).toStrictEqual([rowOf('alice', 2, { costNanoUsd: 2_000 })]);
    });

    it("counts a turn's own record after its recovery's once, each figure the larger, as the ledger does", async () => {
      // The recovery priced what was saved when the turn seemed dead; its function had only
      // stalled, streamed on, and records what the call really cost: its late settle adds
      // that beyond the recovery's figures to the ledger, once.
      const recovered = recordOf({
        api: 'chat',
        keyId: 'key_alice_1',
        usage: { ...USAGE, outputTokens: 274, cacheReadInputTokens: 30 },
        costNanoUsd: 4_143,
        stopReason: 'interrupted',
        recovered: true,
      });
      const own = {
        ...recovered,
        usage: { ...USAGE, outputTokens: 300 },
        costNanoUsd: 4_533,
        stopReason: 'end_turn',
        recovered: undefined,
      } satisfies UsageRecord;

      await records.record(recovered);
      await records.record(recovered);
      await records.record(own);
      await records.record(own);

      const row = (name: string) => ({
        ...rowOf(name, 1, { costNanoUsd: 4_533 }),
        outputTokens: 300,
        cacheReadInputTokens: 30,
      });
      expect(await records.report(NOVEMBER, { top: 10 })).toStrictEqual<UsageReport>({
        month: NOVEMBER,
        byPrincipal: [row('alice')],
        byKey: [row('key_alice_1')],
        byModel: [row(SONNET)],
      });
    });

    it("leaves a turn's own record uncounted when its recovery's has every figure larger", async () => {
      const recovered = recordOf({ api: 'chat', costNanoUsd: 2_000, recovered: true });

      await records.record(recovered);
      await records.record({ ...recovered, costNanoUsd: 1_500, recovered: undefined });
      await records.record({ ...recovered, requestId: 'req_other', costNanoUsd: 700 });

      const { byPrincipal } = await records.report(NOVEMBER, { top: 10 });
      expect(byPrincipal).toStrictEqual([rowOf('alice', 2, { costNanoUsd: 2_700 })]);
    });
  });
}
