import { randomUUID } from 'node:crypto';
import { request } from 'node:http';
import { ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json } from './support/sse.js';
import { startTestStack, type TestStack } from './support/test-stack.js';

interface CreatedKey {
  id: string;
  key: string;
  principal: string;
  revokedAt?: string;
}

/** POST /v1/admin/keys over HTTP, as `admin`, with `idempotencyKey` when given. */
async function create(
  stack: TestStack,
  body: Record<string, unknown>,
  idempotencyKey?: string,
  admin = 'operator',
): Promise<Response> {
  return fetch(`${stack.url}/v1/admin/keys`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${await stack.token(admin, { admin: true })}`,
      'content-type': 'application/json',
      ...(idempotencyKey !== undefined && { 'idempotency-key': idempotencyKey }),
    },
    body: JSON.stringify(body),
  });
}

/** Every key of `principal`, by id, from the admin listing. */
async function keyIdsOf(stack: TestStack, principal: string): Promise<string[]> {
  const response = await fetch(`${stack.url}/v1/admin/keys?principal=${principal}&limit=100`, {
    headers: { authorization: `Bearer ${await stack.token('operator', { admin: true })}` },
  });
  return ((await json(response)) as { keys: CreatedKey[] }).keys.map((key) => key.id);
}

describe('creating an API key with an Idempotency-Key', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack();
  });
  afterAll(() => stack.close());

  it('answers a create sent again with the key and secret it made, and makes no second key', async () => {
    const idempotencyKey = randomUUID();
    const body = { principal: 'retried', name: 'ci', monthlyBudgetUsd: 5 };

    const first = await create(stack, body, idempotencyKey);
    const again = await create(stack, body, idempotencyKey);

    expect(first.status).toBe(201);
    expect(again.status).toBe(201);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    const made: CreatedKey = await json(first);
    expect(await json(again)).toStrictEqual(made);
    expect(await keyIdsOf(stack, 'retried')).toEqual([made.id]);
    const usage = await fetch(`${stack.url}/v1/usage`, { headers: { 'x-api-key': made.key } });
    expect(usage.status).toBe(200);
  });

  it('refuses the same Idempotency-Key with another body with 422, making no key', async () => {
    const idempotencyKey = randomUUID();
    const made: CreatedKey = await json(
      await create(stack, { principal: 'mismatched', monthlyBudgetUsd: 5 }, idempotencyKey),
    );

    const other = await create(
      stack,
      { principal: 'mismatched', monthlyBudgetUsd: 500 },
      idempotencyKey,
    );
    const elsewhere = await create(stack, { principal: 'mismatched-too' }, idempotencyKey);

    expect(other.status).toBe(422);
    expect(await json(other)).toMatchObject({
      type: 'error',
      error: { type: 'invalid_request_error', message: expect.stringContaining('Idempotency-Key') },
    });
    expect(elsewhere.status).toBe(422);
    expect(await keyIdsOf(stack, 'mismatched')).toEqual([made.id]);
    expect(await keyIdsOf(stack, 'mismatched-too')).toEqual([]);
  });

  it('makes one key of identical creates sent at once, and answers each with it', async () => {
    const idempotencyKey = randomUUID();
    const body = { principal: 'raced', allowedModels: ['claude-sonnet-4-6'] };

    const answers = await Promise.all(
      Array.from({ length: 8 }, () => create(stack, body, idempotencyKey)),
    );

    expect(answers.map((answer) => answer.status)).toEqual(answers.map(() => 201));
    const made: CreatedKey[] = await Promise.all(answers.map((answer) => json(answer)));
    const ids = await keyIdsOf(stack, 'raced');
    expect(ids).toHaveLength(1);
    expect(made.map((key) => key.id)).toEqual(made.map(() => ids[0]));
    expect(new Set(made.map((key) => key.key)).size).toBe(1);
    expect(answers.filter((answer) => !answer.headers.has('idempotent-replayed'))).toHaveLength(1);
  });

  it("keeps one admin's Idempotency-Key apart from another's", async () => {
    const idempotencyKey = randomUUID();
    const body = { principal: 'two-admins' };

    const mine: CreatedKey = await json(await create(stack, body, idempotencyKey, 'operator'));
    const theirs = await create(stack, body, idempotencyKey, 'another-operator');

    expect(theirs.status).toBe(201);
    expect(theirs.headers.get('idempotent-replayed')).toBeNull();
    const made: CreatedKey = await json(theirs);
    expect(made.id).not.toBe(mine.id);
    expect(made.key).not.toBe(mine.key);
    expect((await keyIdsOf(stack, 'two-admins')).toSorted()).toEqual([mine.id, made.id].toSorted());
  });

  it('makes a new key for an Idempotency-Key whose record has expired, though DynamoDB has not deleted it yet', async () => {
    const idempotencyKey = randomUUID();
    const body = { principal: 'expired-record' };
    const first: CreatedKey = await json(await create(stack, body, idempotencyKey));
    const records = await recordsNaming(stack, first.id);
    expect(records).toHaveLength(1);
    await stack.documentClient.send(
      new UpdateCommand({
        TableName: stack.tableName,
        Key: { pk: records[0]!.pk, sk: records[0]!.sk },
        UpdateExpression: 'SET expiresAt = :past',
        ExpressionAttributeValues: { ':past': Math.floor(Date.now() / 1000) - 1 },
      }),
    );

    const later = await create(stack, body, idempotencyKey);

    expect(later.status).toBe(201);
    expect(later.headers.get('idempotent-replayed')).toBeNull();
    const made: CreatedKey = await json(later);
    expect(made.id).not.toBe(first.id);
    expect(await keyIdsOf(stack, 'expired-record')).toEqual([made.id, first.id]);
  });

  it('keeps the secret only sealed, for a day, and neither the Idempotency-Key nor the admin in the clear', async () => {
    const idempotencyKey = `seal-check-${randomUUID()}`;
    const made: CreatedKey = await json(
      await create(stack, { principal: 'sealed' }, idempotencyKey, 'sealing-operator'),
    );

    const [record] = await recordsNaming(stack, made.id);
    const { Items = [] } = await stack.documentClient.send(
      new ScanCommand({ TableName: stack.tableName }),
    );
    const stored = JSON.stringify(Items);
    expect(stored).not.toContain(made.key.slice('csk_'.length));
    expect(stored).not.toContain(idempotencyKey);
    expect(JSON.stringify(record)).not.toContain('sealing-operator');
    const inADay = Date.now() / 1000 + 24 * 3600;
    expect(record!.expiresAt).toBeGreaterThan(inADay - 120);
    expect(record!.expiresAt).toBeLessThanOrEqual(inADay + 1);
  });

  it('leaves no record of a create it refused: the same Idempotency-Key with a corrected body makes the key', async () => {
    const idempotencyKey = randomUUID();

    const refused = await create(
      stack,
      { principal: 'corrected', monthlyBudgetUsd: -5 },
      idempotencyKey,
    );
    const corrected = await create(
      stack,
      { principal: 'corrected', monthlyBudgetUsd: 5 },
      idempotencyKey,
    );

    expect(refused.status).toBe(400);
    expect(corrected.status).toBe(201);
    expect(await keyIdsOf(stack, 'corrected')).toEqual([
      ((await json(corrected)) as CreatedKey).id,
    ]);
  });

  const malformed: Record<string, string> = {
    'one too long': 'k'.repeat(256),
    'only spaces': '   ',
    'a character that is not ASCII': 'clé-1',
  };
  for (const [what, idempotencyKey] of Object.entries(malformed)) {
    it(`refuses an Idempotency-Key that is ${what} with 400, making no key`, async () => {
      const principal = `malformed-${randomUUID().slice(0, 8)}`;

      const answer = await rawCreate(stack, { principal }, idempotencyKey);

      expect(answer.status).toBe(400);
      expect(JSON.parse(answer.text)).toMatchObject({
        error: {
          type: 'invalid_request_error',
          message: expect.stringContaining('Idempotency-Key'),
        },
      });
      expect(await keyIdsOf(stack, principal)).toEqual([]);
    });
  }
});

/** The records (`APIKEYREQ#…`) of the requests that made `keyId`. */
async function recordsNaming(stack: TestStack, keyId: string) {
  const { Items = [] } = await stack.documentClient.send(
    new ScanCommand({
      TableName: stack.tableName,
      FilterExpression: 'begins_with(pk, :request) AND keyId = :id',
      ExpressionAttributeValues: { ':request': 'APIKEYREQ#', ':id': keyId },
    }),
  );
  return Items as Array<{ pk: string; sk: string; expiresAt: number }>;
}

/** A create sent with node:http, which passes a header's bytes as given (fetch refuses some). */
async function rawCreate(
  stack: TestStack,
  body: Record<string, unknown>,
  idempotencyKey: string,
): Promise<{ status: number; text: string }> {
  const url = new URL(stack.url);
  const token = await stack.token('operator', { admin: true });
  const payload = Buffer.from(JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        method: 'POST',
        path: '/v1/admin/keys',
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/json',
          'content-length': String(payload.length),
          'idempotency-key': Buffer.from(idempotencyKey, 'utf8').toString('latin1'),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}
