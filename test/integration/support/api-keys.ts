import type { TestStack } from './test-stack.js';

/** Creates an API key through the admin API, as an operator would; returns the secret and id. */
export async function createApiKey(
  stack: TestStack,
  body: Record<string, unknown>,
): Promise<{ id: string; key: string }> {
  const response = await fetch(`${stack.url}/v1/admin/keys`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${await stack.token('operator', { admin: true })}`,
      'content-type': 'application/json',
    },
    body: JSON.stringify(body),
  });
  if (response.status !== 201) {
    throw new Error(`creating an API key failed: ${response.status} ${await response.text()}`);
  }
  return (await response.json()) as { id: string; key: string };
}
