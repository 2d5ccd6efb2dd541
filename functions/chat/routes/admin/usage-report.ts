import { monthOf } from '../../../../shared/domain/budget.js';
import type { Clock } from '../../../../shared/domain/clock.js';
import { nanoToUsd } from '../../../../shared/domain/pricing/model-price.js';
import type { UsageRecords, UsageTotals } from '../../../../shared/ports/usage-records.js';
import * as z from '../../../../shared/validation/zod.js';
import { json } from '../../http/json-response.js';
import { defineRoute } from '../../http/route.js';
import { queryInt } from '../../request-schemas.js';
import { countSchema, recordedUsageSchema, usdSchema } from '../../response-schemas.js';

/** GET /v1/admin/usage?month=yyyy-mm&top=N: the month's usage by principal, key and model, top N by cost. */
export const usageReportRoute = (deps: { usageRecords: UsageRecords; clock: Clock }) =>
  defineRoute({
    method: 'GET',
    path: '/v1/admin/usage',
    access: 'admin',
    query: z.object({
      month: z.optional(
        z.string().check(z.regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'a month as yyyy-mm, e.g. 2026-11')),
      ),
      top: queryInt({ min: 1, max: 1000, fallback: 20 }),
    }),
    docs: {
      operationId: 'getUsageReport',
      params: {
        month: 'yyyy-mm; the current month (UTC) when absent.',
        top: 'How many principals, keys and models each list keeps, by cost.',
      },
      summary: "A month's usage by principal, API key and model, top N by cost",
      description:
        "/v1/messages, /v1/chat and the worker's jobs (each model call of a summary or a compaction; a batch counts once); the month defaults to the current one (UTC).",
      responses: { 200: { description: 'The report.', json: usageReportSchema } },
    },
    handle: async ({ query }) => {
      const month = query.month ?? monthOf(deps.clock());
      const report = await deps.usageRecords.report(month, { top: query.top });
      return json(200, {
        month,
        byPrincipal: report.byPrincipal.map(inUsd),
        byKey: report.byKey.map(inUsd),
        byModel: report.byModel.map(inUsd),
      } satisfies z.infer<ReturnType<typeof usageReportSchema>>);
    },
  });

function inUsd({ costNanoUsd, ...totals }: UsageTotals) {
  return { ...totals, costUsd: nanoToUsd(costNanoUsd) };
}

const usageReportSchema = () => {
  const totals = z.array(
    z.extend(recordedUsageSchema(), {
      name: z.string(),
      requests: countSchema(),
      cacheHits: countSchema(),
      costUsd: usdSchema(),
    }),
  );
  return z.object({
    month: z.string().check(z.describe('yyyy-mm')),
    byPrincipal: totals,
    byKey: totals,
    byModel: totals,
  });
};
