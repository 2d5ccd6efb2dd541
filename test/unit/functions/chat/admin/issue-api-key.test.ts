import { describe, expect, it } from 'vitest';
import {
  createApiKeyIssuer,
  KEY_REQUEST_WINDOW_SECONDS,
  type NewApiKey,
} from '../../../../../functions/chat/admin/issue-api-key.js';
import { SecretSealer } from '../../../../../functions/chat/admin/secret-sealer.js';
import {
  ConflictError,
  IdempotencyKeyReusedError,
  ValidationError,
} from '../../../../../shared/domain/errors.js';
import { InMemoryApiKeyStore } from '../../../../fakes/in-memory-api-key-store.js';

const T0 = Date.parse('2026-11-15T10:00:00.000Z');
const MODELS = new Set(['claude-sonnet-4-6', 'claude-haiku-4-5']);
const REQUEST: NewApiKey = { principal: 'team-blue', name: 'ci', monthlyBudgetUsd: 5 };
const RETRY = { admin: 'operator', idempotencyKey: '9b2e4c1a-0000-4000-8000-000000000001' };

/** An issuer on a fake store, with a clock the test moves and a signing key it may change. */
function issuerSetup() {
  const store = new InMemoryApiKeyStore();
  const state = { nowMs: T0, signingKey: 'the-signing-key' };
  const issue = createApiKeyIssuer({
    store,
    clock: () => state.nowMs,
    models: MODELS,
    sealer: new SecretSealer(async () => state.signingKey),
  });
  const keyIds = async () => (await store.list({ limit: 100 })).items.map((key) => key.id);
  return { store, state, issue, keyIds };
}

describe('issuing an API key with an Idempotency-Key', () => {
  it('answers the same request sent again with the key and secret it made, replayed, and makes no other', async () => {
    const { issue, keyIds } = issuerSetup();

    const first = await issue(REQUEST, RETRY);
    const again = await issue({ ...REQUEST }, { ...RETRY });

    expect(first.replayed).toBe(false);
    expect(again).toStrictEqual({ ...first, replayed: true });
    expect(await keyIds()).toEqual([first.key.id]);
  });

  it('treats a body with the same fields in another order as the same request', async () => {
    const { issue, keyIds } = issuerSetup();

    const first = await issue({ principal: 'p', name: 'n', monthlyBudgetUsd: 1 }, RETRY);
    const again = await issue({ monthlyBudgetUsd: 1, name: 'n', principal: 'p' }, RETRY);

    expect(again.key.id).toBe(first.key.id);
    expect(await keyIds()).toHaveLength(1);
  });

  it('refuses the same Idempotency-Key with another body, making no key', async () => {
    const { issue, keyIds } = issuerSetup();
    const first = await issue(REQUEST, RETRY);

    const other = issue({ ...REQUEST, monthlyBudgetUsd: 50 }, RETRY);

    await expect(other).rejects.toBeInstanceOf(IdempotencyKeyReusedError);
    expect(await keyIds()).toEqual([first.key.id]);
  });

  it("never answers one admin's request with another admin's key", async () => {
    const { issue, keyIds } = issuerSetup();

    const theirs = await issue(REQUEST, RETRY);
    const mine = await issue(REQUEST, { ...RETRY, admin: 'another-operator' });

    expect(mine.replayed).toBe(false);
    expect(mine.key.id).not.toBe(theirs.key.id);
    expect(mine.secret).not.toBe(theirs.secret);
    expect(await keyIds()).toHaveLength(2);
  });

  it('makes a key every time without an Idempotency-Key', async () => {
    const { issue, keyIds } = issuerSetup();

    await issue(REQUEST);
    await issue(REQUEST);

    expect(await keyIds()).toHaveLength(2);
  });

  it('answers a retry up to a day later, and makes a new key after that', async () => {
    const { issue, state, keyIds } = issuerSetup();
    const first = await issue(REQUEST, RETRY);

    state.nowMs = T0 + KEY_REQUEST_WINDOW_SECONDS * 1000;
    const lastMoment = await issue(REQUEST, RETRY);
    state.nowMs = T0 + (KEY_REQUEST_WINDOW_SECONDS + 1) * 1000;
    const dayLater = await issue(REQUEST, RETRY);

    expect(lastMoment.key.id).toBe(first.key.id);
    expect(dayLater.replayed).toBe(false);
    expect(dayLater.key.id).not.toBe(first.key.id);
    expect(await keyIds()).toHaveLength(2);
  });

  it('replays a key whose expiry has passed since it was made, rather than refusing the retry', async () => {
    const { issue, state } = issuerSetup();
    const soon = { ...REQUEST, expiresAt: new Date(T0 + 60_000).toISOString() };
    const first = await issue(soon, RETRY);

    state.nowMs = T0 + 120_000;
    const again = await issue(soon, RETRY);

    expect(again.key.id).toBe(first.key.id);
    await expect(issue(soon)).rejects.toBeInstanceOf(ValidationError);
  });

  it('leaves no record of a request it refused: the same Idempotency-Key with a corrected body makes the key', async () => {
    const { issue, keyIds } = issuerSetup();

    await expect(issue({ ...REQUEST, allowedModels: ['gpt-4'] }, RETRY)).rejects.toBeInstanceOf(
      ValidationError,
    );
    const corrected = await issue(REQUEST, RETRY);

    expect(corrected.replayed).toBe(false);
    expect(await keyIds()).toEqual([corrected.key.id]);
  });

  it('answers a retry with the key as it is now: revoked, when it was revoked since', async () => {
    const { issue, store } = issuerSetup();
    const first = await issue(REQUEST, RETRY);
    await store.revoke(first.key.id, new Date(T0 + 1_000).toISOString());

    const again = await issue(REQUEST, RETRY);

    expect(again.key.revokedAt).toBe(new Date(T0 + 1_000).toISOString());
  });

  it('answers 409 naming the key when the signing key changed and the secret cannot be shown again', async () => {
    const { issue, state, keyIds } = issuerSetup();
    const first = await issue(REQUEST, RETRY);

    state.signingKey = 'a-rotated-signing-key';
    const again = issue(REQUEST, RETRY);

    await expect(again).rejects.toBeInstanceOf(ConflictError);
    await expect(again).rejects.toThrow(first.key.id);
    expect(await keyIds()).toEqual([first.key.id]);
  });

  it('makes one key of the same request sent many times at once', async () => {
    const { issue, keyIds } = issuerSetup();

    const answers = await Promise.all(Array.from({ length: 5 }, () => issue(REQUEST, RETRY)));

    const [kept] = await keyIds();
    expect(answers.map((answer) => answer.key.id)).toEqual(answers.map(() => kept));
    expect(new Set(answers.map((answer) => answer.secret)).size).toBe(1);
    expect(answers.filter((answer) => !answer.replayed)).toHaveLength(1);
  });
});
