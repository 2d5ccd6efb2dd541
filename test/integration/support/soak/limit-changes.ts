import type { TestStack } from '../test-stack.js';
import type { SoakKey } from './api-operations.js';
import type { SoakClient } from './soak-client.js';

/** What a ledger had used (spent, or spent and held) when its budget was raised. */
export interface UsageAtRaise {
  /** `USER#<principal>` or `APIKEY#<id>`. */
  ledger: string;
  /** The budget before the raise. */
  budgetUsd: number;
  usedUsd: number;
}

export interface ChangesMidRun {
  /** A key whose budget is raised. */
  raisedKey: SoakKey;
  /** A principal whose budget is raised. */
  raisedPrincipal: string;
  /** Each budget before and after its raise. */
  raises: { keyUsd: readonly [number, number]; principalUsd: readonly [number, number] };
  revoked: SoakKey;
  rateLimited: SoakKey;
}

/**
 * An operator's changes mid-run, while the calls stream: a key's budget and a principal's
 * raised (what each used under the old one read first), a key revoked, and a rate limit put
 * on another.
 */
export async function changeLimitsMidRun(
  stack: TestStack,
  { send }: SoakClient,
  changes: ChangesMidRun,
): Promise<UsageAtRaise[]> {
  const admin = async (method: string, route: string, url: string, body?: unknown) =>
    send(route, url, {
      method,
      headers: {
        authorization: `Bearer ${await stack.token('operator', { admin: true })}`,
        ...(body !== undefined && { 'content-type': 'application/json' }),
      },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
  const { raisedKey, raisedPrincipal, raises } = changes;
  const keyUrl = `/v1/admin/keys/${raisedKey.id}`;
  const principalUrl = `/v1/admin/principals/${raisedPrincipal}/budget`;
  const [key, principal] = await Promise.all([
    admin('GET', 'GET /v1/admin/keys/{id}', keyUrl),
    admin('GET', 'GET /v1/admin/principals/{p}/budget', principalUrl),
  ]);
  const { usage } = (await key.json()) as { usage: { costUsd: number; heldUsd: number } };
  const { spentUsd } = (await principal.json()) as { spentUsd: number };
  const answers = await Promise.all([
    admin('PATCH', 'PATCH /v1/admin/keys/{id}', keyUrl, { monthlyBudgetUsd: raises.keyUsd[1] }),
    admin('PUT', 'PUT /v1/admin/principals/{p}/budget', principalUrl, {
      monthlyBudgetUsd: raises.principalUsd[1],
    }),
    admin('DELETE', 'DELETE /v1/admin/keys/{id}', `/v1/admin/keys/${changes.revoked.id}`),
    admin('PATCH', 'PATCH /v1/admin/keys/{id}', `/v1/admin/keys/${changes.rateLimited.id}`, {
      requestsPerMinute: 20,
    }),
  ]);
  await Promise.all(answers.map((r) => r.body?.cancel()));
  return [
    {
      ledger: `APIKEY#${raisedKey.id}`,
      budgetUsd: raises.keyUsd[0],
      usedUsd: usage.costUsd + usage.heldUsd,
    },
    { ledger: `USER#${raisedPrincipal}`, budgetUsd: raises.principalUsd[0], usedUsd: spentUsd },
  ];
}

/** Sets `principal`'s budget before the run, as an operator would. */
export async function setPrincipalBudget(
  stack: TestStack,
  principal: string,
  monthlyBudgetUsd: number,
): Promise<void> {
  const r = await fetch(`${stack.url}/v1/admin/principals/${principal}/budget`, {
    method: 'PUT',
    headers: {
      authorization: `Bearer ${await stack.token('operator', { admin: true })}`,
      'content-type': 'application/json',
    },
    body: JSON.stringify({ monthlyBudgetUsd }),
  });
  if (r.status !== 200)
    throw new Error(`setting ${principal}'s budget: ${r.status} ${await r.text()}`);
}
