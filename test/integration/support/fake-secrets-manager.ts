import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A Secrets Manager endpoint that answers GetSecretValue (AWS JSON 1.1) from `values`, by
 * ARN: the functions then read their secrets as on AWS (the SDK is pointed at it by
 * AWS_ENDPOINT_URL_SECRETS_MANAGER). Anything else is answered 400.
 */
export async function startFakeSecretsManager(
  values: Readonly<Record<string, string>>,
): Promise<{ url: string; close: () => Promise<void> }> {
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => {
      body += chunk.toString('utf8');
    });
    req.on('end', () => {
      const { SecretId } = JSON.parse(body || '{}') as { SecretId?: string };
      const value = SecretId === undefined ? undefined : values[SecretId];
      const found = req.headers['x-amz-target'] === 'secretsmanager.GetSecretValue' && value;
      res.writeHead(found ? 200 : 400, { 'content-type': 'application/x-amz-json-1.1' });
      res.end(
        JSON.stringify(
          found
            ? { ARN: SecretId, Name: SecretId, SecretString: value, VersionId: 'v1' }
            : { __type: 'ResourceNotFoundException', message: `no secret ${SecretId}` },
        ),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
