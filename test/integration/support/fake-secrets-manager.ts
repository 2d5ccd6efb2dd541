import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One GetSecretValue the fake answered: which secret, when it was in flight (epoch ms), how. */
export interface SecretRead {
  secretId: string;
  startedAt: number;
  endedAt: number;
  failed: boolean;
}

export interface FakeSecretsManager {
  url: string;
  /** Every read answered, in the order they ended. */
  reads: SecretRead[];
  /**
   * While set, every read fails: `denied` (AccessDeniedException, which the SDK does not
   * retry) or `unavailable` (a 500, which it retries, and the functions answer 503).
   */
  failing: 'denied' | 'unavailable' | undefined;
  /** While set, reads are answered only once it settles (then after `latencyMs`, as ever). */
  held: Promise<void> | undefined;
  close: () => Promise<void>;
}

/**
 * A Secrets Manager endpoint that answers GetSecretValue (AWS JSON 1.1) from `values`, by
 * ARN: the functions then read their secrets as on AWS (the SDK is pointed at it by
 * AWS_ENDPOINT_URL_SECRETS_MANAGER). Anything else is answered 400. `latencyMs` delays each
 * answer, as Secrets Manager's round trip on AWS takes tens of milliseconds.
 */
export async function startFakeSecretsManager(
  values: Readonly<Record<string, string>>,
  options: { latencyMs?: number } = {},
): Promise<FakeSecretsManager> {
  const now = () => performance.timeOrigin + performance.now();
  const reads: SecretRead[] = [];
  const server = createServer((req, res) => {
    const startedAt = now();
    let body = '';
    req.on('data', (chunk: Buffer) => {
      body += chunk.toString('utf8');
    });
    req.on('end', () => {
      const failing = fake.failing;
      const answer = () =>
        setTimeout(() => {
          const { SecretId } = JSON.parse(body || '{}') as { SecretId?: string };
          const value = SecretId === undefined ? undefined : values[SecretId];
          const found =
            !failing && req.headers['x-amz-target'] === 'secretsmanager.GetSecretValue' && value;
          reads.push({ secretId: SecretId ?? '', startedAt, endedAt: now(), failed: !found });
          res.writeHead(found ? 200 : failing === 'unavailable' ? 500 : 400, {
            'content-type': 'application/x-amz-json-1.1',
          });
          res.end(
            JSON.stringify(
              found
                ? { ARN: SecretId, Name: SecretId, SecretString: value, VersionId: 'v1' }
                : failing === 'unavailable'
                  ? { __type: 'InternalServiceError', message: 'unavailable' }
                  : failing === 'denied'
                    ? { __type: 'AccessDeniedException', message: 'denied' }
                    : { __type: 'ResourceNotFoundException', message: `no secret ${SecretId}` },
            ),
          );
        }, options.latencyMs ?? 0);
      if (fake.held) fake.held.then(answer);
      else answer();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const fake: FakeSecretsManager = {
    url: `http://127.0.0.1:${port}`,
    reads,
    failing: undefined,
    held: undefined,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return fake;
}
