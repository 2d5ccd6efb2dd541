import { createHash, randomBytes } from 'node:crypto';
import { PermissionError } from './errors.js';
import { listsModel } from './model-id.js';
import { quoted } from './quoted.js';

/** Every key starts with this, so a leaked one is recognizable (secret scanners, logs). */
export const API_KEY_PREFIX = 'csk_';

/** What an operator may limit a key to; unset means the principal's own limits apply. */
export interface ApiKeyLimits {
  /** The key's own monthly budget, on top of its principal's. */
  monthlyBudgetUsd?: number;
  requestsPerMinute?: number;
  tokensPerMinute?: number;
  /** Models the key may call; unset: every model the deployment allows. */
  allowedModels?: string[];
  /** ISO 8601; the key stops working after it. */
  expiresAt?: string;
}

/** The limits an operator may change on an existing key. */
export type ChangeableLimit =
  | 'monthlyBudgetUsd'
  | 'requestsPerMinute'
  | 'tokensPerMinute'
  | 'allowedModels';

/** A change to a key's limits: a value sets it, `null` removes it (its principal's apply), absent keeps it. */
export type ApiKeyLimitChanges = { [Name in ChangeableLimit]?: ApiKeyLimits[Name] | null };

/** A project API key as stored: never the secret, only its hash. */
export interface ApiKey extends ApiKeyLimits {
  /** `key_<32 hex>`: how the admin API names it. */
  id: string;
  /** The user or team the key acts for: its budgets, rate limits and history. */
  principal: string;
  name?: string;
  /** The first and last characters of the secret, for people to recognize it. */
  hint: string;
  createdAt: string;
  revokedAt?: string;
  lastUsedAt?: string;
}

/**
 * The record a key created with an Idempotency-Key leaves, so that the same request sent
 * again (its answer lost) gets the same key rather than a second one.
 */
export interface KeyIssuance {
  /** Names the request: a digest of the admin who sent it and their Idempotency-Key. */
  requestId: string;
  /** A digest of the request's body: the key may only be sent again with the same. */
  bodyDigest: string;
  keyId: string;
  /** The key's secret, sealed: only the same admin's same Idempotency-Key opens it. */
  sealedSecret: string;
  /** Epoch seconds: after it the record answers no more (and DynamoDB's TTL deletes it). */
  expiresAtSeconds: number;
}

/** What a key brings to a call: its own budget and rates, checked beside its principal's. */
export type ApiKeyGrant = Pick<
  ApiKey,
  'id' | 'monthlyBudgetUsd' | 'requestsPerMinute' | 'tokensPerMinute' | 'allowedModels'
>;

/** What a key brings to a call, as stored now. */
export function grantOf(key: ApiKey): ApiKeyGrant {
  return {
    id: key.id,
    ...(key.monthlyBudgetUsd !== undefined && { monthlyBudgetUsd: key.monthlyBudgetUsd }),
    ...(key.requestsPerMinute !== undefined && { requestsPerMinute: key.requestsPerMinute }),
    ...(key.tokensPerMinute !== undefined && { tokensPerMinute: key.tokensPerMinute }),
    ...(key.allowedModels && { allowedModels: key.allowedModels }),
  };
}

/** @throws PermissionError when the key is limited to other models */
export function checkKeyAllowsModel(key: ApiKeyGrant | undefined, model: string): void {
  if (keyAllowsModel(key, model)) return;
  throw new PermissionError(
    `this API key may not use model ${quoted(model)}; it may use: ${key?.allowedModels?.join(', ')}`,
  );
}

export function keyAllowsModel(key: ApiKeyGrant | undefined, model: string): boolean {
  return !key?.allowedModels || listsModel(new Set(key.allowedModels), model);
}

/** A new key: 256 random bits, base64url, behind the prefix. Shown once, then only its hash is kept. */
export function generateApiKeySecret(): string {
  return `${API_KEY_PREFIX}${randomBytes(32).toString('base64url')}`;
}

export function newApiKeyId(): string {
  return `key_${randomBytes(16).toString('hex')}`;
}

export function isApiKeyId(id: string): boolean {
  return /^key_[a-f0-9]{32}$/.test(id);
}

/** Secrets are looked up by SHA-256: 256 random bits need no slow hash. */
export function hashApiKeySecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

export function looksLikeApiKey(credential: string): boolean {
  return credential.startsWith(API_KEY_PREFIX);
}

export function apiKeyHint(secret: string): string {
  return `${secret.slice(0, API_KEY_PREFIX.length + 4)}…${secret.slice(-4)}`;
}
