import type { TestStack } from '../test-stack.js';
import type { SoakKey } from './api-operations.js';
import type { SoakClient } from './soak-client.js';

/**
 * An operator's cuts mid-run: `principal`'s budget to next to nothing, so that some of its
 * calls are refused, and the large key's to about what it has spent.
 */
export async function cutBudgetsMidRun(
  stack: TestStack,
  { send, userInit }: SoakClient,
  principal: string,
  key: SoakKey,
): Promise<void> {
  const r = await send(
    'PUT /v1/admin/principals/{p}/budget',
    `/v1/admin/principals/${principal}/budget`,
    await userInit(
      'operator',
      'PUT',
      { monthlyBudgetUsd: 0.00001 },
      {
        authorization: `Bearer ${await stack.token('operator', { admin: true })}`,
      },
    ),
  );
  await r.body?.cancel();
  const k = await send('PATCH /v1/admin/keys/{id}', `/v1/admin/keys/${key.id}`, {
    method: 'PATCH',
    headers: {
      authorization: `Bearer ${await stack.token('operator', { admin: true })}`,
      'content-type': 'application/json',
    },
    body: JSON.stringify({ monthlyBudgetUsd: 0.01 }),
  });
  await k.body?.cancel();
}
