import { monthOf } from '../../../shared/domain/budget.js';
import type { Clock } from '../../../shared/domain/clock.js';
import { nanoToUsd, usdToNano } from '../../../shared/domain/pricing/model-price.js';
import type { UsageLedger } from '../../../shared/ports/usage-ledger.js';
import * as z from '../../../shared/validation/zod.js';
import { json } from '../http/json-response.js';
import { defineRoute } from '../http/route.js';
import { countSchema, tokenUsageSchema, usdSchema } from '../response-schemas.js';

/**
 * GET /v1/usage: the caller's usage and budget for the current month (UTC); with an API
 * key, that key's own spend and budget too, which bind as well.
 */
export const usageRoute = (deps: {
  ledger: UsageLedger;
  clock: Clock;
  limits: { userMonthlyBudgetUsd: number };
}) =>
  defineRoute({
    method: 'GET',
    path: '/v1/usage',
    docs: {
      operationId: 'getUsage',
      summary: "The caller's tokens, cost and budget this month (UTC)",
      description:
        "The principal's month. Called with an API key, `apiKey` adds the key's own: its spend, and its budget when it has one; a call must fit both.",
      responses: { 200: { description: "This month's usage.", json: usageSchema } },
    },
    handle: async ({ principal: { userId, apiKey } }) => {
      const month = monthOf(deps.clock());
      const [usage, override, keyUsage] = await Promise.all([
        deps.ledger.userMonth(userId, month),
        deps.ledger.userBudgetOverrideUsd(userId),
        apiKey && deps.ledger.keyMonth(apiKey.id, month),
      ]);
      const budgetUsd = override ?? deps.limits.userMonthlyBudgetUsd;
      return json(200, {
        userId,
        month,
        inputTokens: usage.inputTokens,
        outputTokens: usage.outputTokens,
        cacheReadInputTokens: usage.cacheReadInputTokens,
        cacheCreationInputTokens: usage.cacheCreationInputTokens,
        costUsd: nanoToUsd(usage.spentNanoUsd),
        budgetUsd,
        // What can still be reserved: in-flight calls hold part of the budget too.
        remainingUsd: nanoToUsd(Math.max(0, usdToNano(budgetUsd) - usage.heldNanoUsd)),
        requests: usage.requests,
        ...(apiKey &&
          keyUsage && {
            apiKey: {
              id: apiKey.id,
              costUsd: nanoToUsd(keyUsage.spentNanoUsd),
              requests: keyUsage.requests,
              ...(apiKey.monthlyBudgetUsd !== undefined && {
                budgetUsd: apiKey.monthlyBudgetUsd,
                remainingUsd: nanoToUsd(
                  Math.max(0, usdToNano(apiKey.monthlyBudgetUsd) - keyUsage.heldNanoUsd),
                ),
              }),
            },
          }),
      } satisfies z.infer<ReturnType<typeof usageSchema>>);
    },
  });

const usageSchema = () =>
  z.extend(tokenUsageSchema(), {
    userId: z
      .string()
      .check(z.describe("Whose month it is: the token's `sub`, or the API key's principal.")),
    month: z.string().check(z.describe('yyyy-mm (UTC)')),
    costUsd: usdSchema(),
    budgetUsd: usdSchema(),
    remainingUsd: usdSchema().check(
      z.describe('What can still be reserved: calls in flight hold part of the budget.'),
    ),
    requests: countSchema(),
    apiKey: z.optional(
      z
        .object({
          id: z.string(),
          costUsd: usdSchema(),
          requests: countSchema(),
          budgetUsd: z.optional(usdSchema()),
          remainingUsd: z.optional(usdSchema()),
        })
        .check(
          z.describe('The API key the call came with: its own month, and budget if it has one.'),
        ),
    ),
  });
