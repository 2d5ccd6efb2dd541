import { IAM_USER_ID_PREFIX, isUserId } from '../../../shared/auth/user-id.js';
import {
  type ApiKey,
  type ApiKeyLimits,
  apiKeyHint,
  generateApiKeySecret,
  hashApiKeySecret,
  newApiKeyId,
} from '../../../shared/domain/api-key.js';
import type { Clock } from '../../../shared/domain/clock.js';
import { ValidationError } from '../../../shared/domain/errors.js';
import type { ApiKeyStore } from '../../../shared/ports/api-key-store.js';

export interface NewApiKey extends ApiKeyLimits {
  principal: string;
  name?: string;
}

/** 9999-12-31T23:59:59.999Z: the last instant a four-digit year can say in UTC. */
const LATEST_EXPIRY_MS = Date.UTC(10_000, 0, 1) - 1;

/** A new key, and its secret: shown this once, never stored. */
export type IssueApiKey = (request: NewApiKey) => Promise<{ key: ApiKey; secret: string }>;

/** POST /v1/admin/keys: a random 256-bit key for a principal, stored only as its hash. */
export function createApiKeyIssuer(deps: {
  store: ApiKeyStore;
  clock: Clock;
  /** Every model the deployment allows: a key may only narrow them. */
  models: ReadonlySet<string>;
}): IssueApiKey {
  const { store, clock, models } = deps;
  return async (request) => {
    const nowMs = clock();
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
    const unknown = request.allowedModels?.filter((model) => !models.has(model)) ?? [];
    if (unknown.length > 0) {
      throw new ValidationError(
        `allowedModels: ${unknown.join(', ')} not available here; available: ${[...models].join(', ')}`,
      );
    }
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
    const secret = generateApiKeySecret();
    const key: ApiKey = {
      ...request,
      // Each model once: a list repeating one would outgrow what a DynamoDB item may hold.
      ...(request.allowedModels && { allowedModels: [...new Set(request.allowedModels)] }),
      ...(request.expiresAt && { expiresAt: new Date(request.expiresAt).toISOString() }),
      id: newApiKeyId(),
      hint: apiKeyHint(secret),
      createdAt: new Date(nowMs).toISOString(),
    };
    await store.create(key, hashApiKeySecret(secret));
    return { key, secret };
  };
}
