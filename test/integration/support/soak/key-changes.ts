import type { TestStack } from '../test-stack.js';
import type { SoakKey } from './api-operations.js';
import type { SoakClient } from './soak-client.js';

/** What one key had spent and held when its budget was raised: both within the old budget. */
export interface KeyUsageSnapshot {
  keyId: string;
  budgetUsd: number;
  costUsd: number;
  heldUsd: number;
}

/**
 * An operator's key changes mid-run, while the key's calls stream: `raised`'s budget raised
 * (what it spent and held under the old one is read first), `revoked` revoked, and a rate limit
 * put on `rateLimited`.
 */
export async function changeKeysMidRun(
  stack: TestStack,
  { send }: SoakClient,
  keys: {
    raised: SoakKey;
    raisedFromUsd: number;
    raisedToUsd: number;
    revoked: SoakKey;
    rateLimited: SoakKey;
  },
): Promise<KeyUsageSnapshot> {
  const admin = async (method: string, route: string, url: string, body?: unknown) => {
    const r = await send(route, url, {
      method,
      headers: {
        authorization: `Bearer ${await stack.token('operator', { admin: true })}`,
        ...(body !== undefined && { 'content-type': 'application/json' }),
      },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    return r;
  };
  const before = await admin('GET', 'GET /v1/admin/keys/{id}', `/v1/admin/keys/${keys.raised.id}`);
  const { usage } = (await before.json()) as { usage: { costUsd: number; heldUsd: number } };
  const raised = await admin(
    'PATCH',
    'PATCH /v1/admin/keys/{id}',
    `/v1/admin/keys/${keys.raised.id}`,
    {
      monthlyBudgetUsd: keys.raisedToUsd,
    },
  );
  await raised.body?.cancel();
  const revoked = await admin(
    'DELETE',
    'DELETE /v1/admin/keys/{id}',
    `/v1/admin/keys/${keys.revoked.id}`,
  );
  await revoked.body?.cancel();
  const limited = await admin(
    'PATCH',
    'PATCH /v1/admin/keys/{id}',
    `/v1/admin/keys/${keys.rateLimited.id}`,
    { requestsPerMinute: 20 },
  );
  await limited.body?.cancel();
  return { keyId: keys.raised.id, budgetUsd: keys.raisedFromUsd, ...usage };
}
