import { createHash } from 'node:crypto';
import { IAM_USER_ID_PREFIX, isUserId } from '../../../shared/auth/user-id.js';
import {
  type ApiKey,
  type ApiKeyLimits,
  apiKeyHint,
  generateApiKeySecret,
  hashApiKeySecret,
  type KeyIssuance,
  newApiKeyId,
} from '../../../shared/domain/api-key.js';
import type { Clock } from '../../../shared/domain/clock.js';
import {
  ConflictError,
  IdempotencyKeyReusedError,
  ValidationError,
} from '../../../shared/domain/errors.js';
import type { ApiKeyStore } from '../../../shared/ports/api-key-store.js';
import { checkAllowedModels } from './allowed-models.js';
import type { SealScope, SecretSealer } from './secret-sealer.js';

export interface NewApiKey extends ApiKeyLimits {
  principal: string;
  name?: string;
}

/** 9999-12-31T23:59:59.999Z: the last instant a four-digit year can say in UTC. */
const LATEST_EXPIRY_MS = Date.UTC(10_000, 0, 1) - 1;

/** Who sent a request, and the key they named it with, so that sending it again is safe. */
export interface RetryScope {
  /** The admin's user id: one admin's Idempotency-Key never answers another's request. */
  admin: string;
  idempotencyKey: string;
}

/** How long a request's record answers its retries: a day, as Stripe keeps its keys. */
export const KEY_REQUEST_WINDOW_SECONDS = 24 * 3600;

/**
 * A new key and its secret; or, for a request sent again with the same Idempotency-Key
 * within a day, the key it made then, with its secret, `replayed`.
 * @throws ValidationError for a request that cannot make a key
 * @throws IdempotencyKeyReusedError when the Idempotency-Key was sent with another body
 * @throws ConflictError when the key was made but its secret can no longer be opened
 */
export type IssueApiKey = (
  request: NewApiKey,
  retry?: RetryScope,
) => Promise<{ key: ApiKey; secret: string; replayed: boolean }>;

/**
 * POST /v1/admin/keys: a random 256-bit key for a principal, stored only as its hash. With
 * an Idempotency-Key, the key is stored with a record of the request in one write, and its
 * secret, sealed, in that record for a day: the same request sent again (its answer lost)
 * answers the same key and secret instead of making a second key nobody holds.
 */
export function createApiKeyIssuer(deps: {
  store: ApiKeyStore;
  clock: Clock;
  /** Every model the deployment allows: a key may only narrow them. */
  models: ReadonlySet<string>;
  sealer: SecretSealer;
}): IssueApiKey {
  const { store, clock, sealer } = deps;
  return async (request, retry) => {
    const nowMs = clock();
    const nowSeconds = Math.floor(nowMs / 1000);
    const once = retry && requestOf(retry, request);
    // Looked up before the body is checked: an expiry that has passed since does not refuse it.
    const earlier = once && (await store.findIssuance(once.scope.requestId, nowSeconds));
    if (once && earlier) return replay(earlier, once);
    checkNewKey(request, nowMs, deps.models);
    const secret = generateApiKeySecret();
    const key = newKey(request, secret, nowMs);
    if (!once) {
      await store.create(key, hashApiKeySecret(secret));
      return { key, secret, replayed: false };
    }
    const standing = await store.createOnce(
      key,
      hashApiKeySecret(secret),
      {
        requestId: once.scope.requestId,
        bodyDigest: once.bodyDigest,
        keyId: key.id,
        sealedSecret: await sealer.seal(secret, once.scope),
        expiresAtSeconds: nowSeconds + KEY_REQUEST_WINDOW_SECONDS,
      },
      nowSeconds,
    );
    // Another copy of the request was stored first: its key is the answer.
    if (standing.keyId !== key.id) return replay(standing, once);
    return { key, secret, replayed: false };
  };

  async function replay(issuance: KeyIssuance, once: KeyRequest) {
    if (issuance.bodyDigest !== once.bodyDigest) {
      throw new IdempotencyKeyReusedError(
        'this Idempotency-Key was sent before with another request body: send a new key with this request',
      );
    }
    const key = await store.get(issuance.keyId);
    if (!key) throw new Error(`key request ${issuance.requestId} names no key ${issuance.keyId}`);
    const secret = await sealer.open(issuance.sealedSecret, once.scope);
    if (secret === undefined) {
      throw new ConflictError(
        `this request made key ${key.id}, whose secret can no longer be shown (the signing key changed): revoke it and create another`,
      );
    }
    return { key, secret, replayed: true };
  }
}

interface KeyRequest {
  scope: SealScope;
  bodyDigest: string;
}

function requestOf(retry: RetryScope, request: NewApiKey): KeyRequest {
  // A user id holds no line break: the admin and the key cannot run into each other.
  const requestId = sha256(`${retry.admin}\n${retry.idempotencyKey}`);
  return {
    scope: { idempotencyKey: retry.idempotencyKey, requestId },
    bodyDigest: sha256(JSON.stringify(request, Object.keys(request).sort())),
  };
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** @throws ValidationError */
function checkNewKey(request: NewApiKey, nowMs: number, models: ReadonlySet<string>): void {
  if (!isUserId(request.principal)) {
    throw new ValidationError(
      'principal: 1 to 128 letters, digits or . _ @ | : + - (it names the user or team the key acts for)',
    );
  }
  if (request.principal.startsWith(IAM_USER_ID_PREFIX)) {
    // As no token may claim it: the key would read and spend as an IAM admin's own user.
    throw new ValidationError(
      `principal: ${IAM_USER_ID_PREFIX} names an IAM caller of this deployment, which no key acts for`,
    );
  }
  checkAllowedModels(request.allowedModels, models);
  if (request.expiresAt !== undefined && Date.parse(request.expiresAt) <= nowMs) {
    throw new ValidationError('expiresAt: must be in the future');
  }
  // Past it, the UTC instant the key is stored and shown with is no RFC 3339 date-time
  // (`+010000-…`), which clients and the API's own schema refuse.
  if (request.expiresAt !== undefined && Date.parse(request.expiresAt) > LATEST_EXPIRY_MS) {
    throw new ValidationError(
      `expiresAt: at most ${new Date(LATEST_EXPIRY_MS).toISOString()} (UTC), not ${request.expiresAt}`,
    );
  }
}

function newKey(request: NewApiKey, secret: string, nowMs: number): ApiKey {
  return {
    ...request,
    // Half an emoji (a lone surrogate, which JSON.parse takes) as U+FFFD, as invalid UTF-8
    // is: DynamoDB stores UTF-8, so the name kept would not be the name shown.
    ...(request.name !== undefined && { name: request.name.toWellFormed() }),
    // Each model once: a list repeating one would outgrow what a DynamoDB item may hold.
    ...(request.allowedModels && { allowedModels: [...new Set(request.allowedModels)] }),
    ...(request.expiresAt && { expiresAt: new Date(request.expiresAt).toISOString() }),
    id: newApiKeyId(),
    hint: apiKeyHint(secret),
    createdAt: new Date(nowMs).toISOString(),
  };
}
