import { createServer, type Server, type Socket } from 'node:net';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureLocalAwsEnv } from '../../../../../local-stack/function-env.js';
import { createDynamoDbClient } from '../../../../../shared/adapters/aws/clients.js';

describe('createDynamoDbClient', () => {
  /** Accepts connections and reads requests, and never answers: a dead connection. */
  let silent: Server;
  const sockets: Socket[] = [];
  let requests = 0;

  beforeAll(async () => {
    ensureLocalAwsEnv();
    silent = createServer((socket) => {
      sockets.push(socket);
      socket.on('data', (chunk) => {
        if (chunk.toString('latin1').startsWith('POST ')) requests++;
      });
    });
    await new Promise<void>((listening) => silent.listen(0, '127.0.0.1', listening));
  });
  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((closed) => silent.close(closed));
  });

  it('gives up on a request left unanswered, after the SDK has retried it', async () => {
    const { port } = silent.address() as { port: number };
    const client = createDynamoDbClient(`http://127.0.0.1:${port}`);

    const failure = await client
      .send(new GetItemCommand({ TableName: 't', Key: { pk: { S: 'p' }, sk: { S: 's' } } }))
      .catch((error: unknown) => error);

    expect(failure).toMatchObject({ name: 'TimeoutError' });
    const { attempts } = (failure as { $metadata: { attempts: number } }).$metadata;
    expect(attempts).toBeGreaterThan(1);
    expect(requests).toBe(attempts);
  }, 30_000);

  it('has no SDK logging step: no input or output is copied for a log line', () => {
    const steps = createDynamoDbClient('http://127.0.0.1:1').middlewareStack.identify();

    expect(steps.some((step) => step.startsWith('loggerMiddleware'))).toBe(false);
    expect(steps.length).toBeGreaterThan(5);
  });
});
