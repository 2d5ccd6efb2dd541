import { isUserId } from '../../../../shared/auth/user-id.js';
import { MAX_BUDGET_USD, MIN_BUDGET_USD, monthOf } from '../../../../shared/domain/budget.js';
import type { Clock } from '../../../../shared/domain/clock.js';
import { ValidationError } from '../../../../shared/domain/errors.js';
import { nanoToUsd, usdToNano } from '../../../../shared/domain/pricing/model-price.js';
import type { UsageLedger } from '../../../../shared/ports/usage-ledger.js';
import * as z from '../../../../shared/validation/zod.js';
import { json } from '../../http/json-response.js';
import { defineRoute } from '../../http/route.js';
import { usdSchema } from '../../response-schemas.js';

interface BudgetDependencies {
  ledger: UsageLedger;
  clock: Clock;
  limits: { userMonthlyBudgetUsd: number };
}

/** GET /v1/admin/principals/{principal}/budget */
export const getBudgetRoute = (deps: BudgetDependencies) =>
  defineRoute({
    method: 'GET',
    path: '/v1/admin/principals/:principal/budget',
    access: 'admin',
    docs: {
      operationId: 'getBudget',
      summary: "A principal's monthly budget, spent and remaining",
      params: { principal: 'A user or team id.' },
      responses: { 200: { description: 'The budget.', json: budgetSchema } },
      errors: [400],
    },
    handle: async ({ params }) => json(200, await budgetOf(principalOf(params), deps)),
  });

/** PUT /v1/admin/principals/{principal}/budget `{"monthlyBudgetUsd"}` */
export const setBudgetRoute = (deps: BudgetDependencies) =>
  defineRoute({
    method: 'PUT',
    path: '/v1/admin/principals/:principal/budget',
    access: 'admin',
    body: z.strictObject({
      monthlyBudgetUsd: z.number().check(
        z.nonnegative(),
        z.maximum(MAX_BUDGET_USD),
        // The ledger counts nano-USD: less would be stored as 0, which refuses every call.
        z.refine(
          (usd) => usd === 0 || usd >= MIN_BUDGET_USD,
          '0 (refuses every call) or at least 0.000000001 (a nano-dollar)',
        ),
        z.describe('USD: 0 refuses every call; otherwise at least 0.000000001 (a nano-dollar).'),
      ),
    }),
    docs: {
      operationId: 'setBudget',
      summary: "Set a principal's monthly budget",
      params: { principal: 'A user or team id.' },
      responses: { 200: { description: 'The budget now.', json: budgetSchema } },
    },
    handle: async ({ params, body, scope }) => {
      const principal = principalOf(params);
      await deps.ledger.setUserBudgetOverride(principal, body.monthlyBudgetUsd, deps.clock());
      scope.logger.info('budget set', { principal, monthlyBudgetUsd: body.monthlyBudgetUsd });
      return json(200, await budgetOf(principal, deps));
    },
  });

function principalOf(params: Record<string, string>): string {
  const principal = params.principal ?? '';
  if (!isUserId(principal)) throw new ValidationError('principal: not a valid user or team id');
  return principal;
}

const budgetSchema = () =>
  z.object({
    principal: z.string(),
    monthlyBudgetUsd: usdSchema(),
    isDefault: z.boolean().check(z.describe('true: no override, `userMonthlyBudgetUsd` applies.')),
    month: z.string().check(z.describe('yyyy-mm (UTC)')),
    spentUsd: usdSchema(),
    remainingUsd: usdSchema(),
  });

async function budgetOf(
  principal: string,
  deps: BudgetDependencies,
): Promise<z.infer<ReturnType<typeof budgetSchema>>> {
  const month = monthOf(deps.clock());
  const [usage, override] = await Promise.all([
    deps.ledger.userMonth(principal, month),
    deps.ledger.userBudgetOverrideUsd(principal),
  ]);
  const monthlyBudgetUsd = override ?? deps.limits.userMonthlyBudgetUsd;
  return {
    principal,
    monthlyBudgetUsd,
    isDefault: override === undefined,
    month,
    spentUsd: nanoToUsd(usage.spentNanoUsd),
    remainingUsd: nanoToUsd(Math.max(0, usdToNano(monthlyBudgetUsd) - usage.heldNanoUsd)),
  };
}
