import { USER_ID_PATTERN } from '../../../../shared/auth/user-id.js';
import { type ApiKey, isApiKeyId } from '../../../../shared/domain/api-key.js';
import { MAX_BUDGET_USD, MIN_BUDGET_USD, monthOf } from '../../../../shared/domain/budget.js';
import type { Clock } from '../../../../shared/domain/clock.js';
import { NotFoundError, ValidationError } from '../../../../shared/domain/errors.js';
import { nanoToUsd } from '../../../../shared/domain/pricing/model-price.js';
import { namedId } from '../../../../shared/domain/quoted.js';
import type { ApiKeyStore } from '../../../../shared/ports/api-key-store.js';
import type { UsageLedger } from '../../../../shared/ports/usage-ledger.js';
import { maxChars } from '../../../../shared/validation/max-chars.js';
import * as z from '../../../../shared/validation/zod.js';
import type { ChangeApiKeyLimits } from '../../admin/change-api-key-limits.js';
import type { IssueApiKey } from '../../admin/issue-api-key.js';
import { json } from '../../http/json-response.js';
import { defineRoute } from '../../http/route.js';
import { PageQuerySchema } from '../../request-schemas.js';
import { countSchema, instantSchema, nextCursorSchema, usdSchema } from '../../response-schemas.js';
import { keyNameSchema } from './key-name.js';

const positiveInt = z.int().check(z.positive(), z.maximum(100_000_000));

/** A key's own limits, as a new key sets them and a change does. */
const LIMITS = {
  // The ledger counts nano-USD: a smaller budget is a mistake (and DynamoDB's numbers underflow).
  monthlyBudgetUsd: z.number().check(z.minimum(MIN_BUDGET_USD), z.maximum(MAX_BUDGET_USD)),
  requestsPerMinute: positiveInt,
  tokensPerMinute: positiveInt,
  allowedModels: z.array(z.string().check(z.minLength(1), ...maxChars(200))).check(z.minLength(1)),
};

const NewApiKeySchema = z.strictObject({
  principal: z.string().check(z.minLength(1), ...maxChars(128)),
  name: z.optional(keyNameSchema()),
  monthlyBudgetUsd: z.optional(LIMITS.monthlyBudgetUsd),
  requestsPerMinute: z.optional(LIMITS.requestsPerMinute),
  tokensPerMinute: z.optional(LIMITS.tokensPerMinute),
  allowedModels: z.optional(LIMITS.allowedModels),
  expiresAt: z.optional(z.iso.datetime({ offset: true })),
});

/** null removes a limit: the key's principal's then applies (every model the deployment allows). */
const ApiKeyLimitChangesSchema = z.strictObject({
  monthlyBudgetUsd: z.optional(z.nullable(LIMITS.monthlyBudgetUsd)),
  requestsPerMinute: z.optional(z.nullable(LIMITS.requestsPerMinute)),
  tokensPerMinute: z.optional(z.nullable(LIMITS.tokensPerMinute)),
  allowedModels: z.optional(z.nullable(LIMITS.allowedModels)),
});

/**
 * POST /v1/admin/keys: `201 {"id","key",…}`; the key is shown this once, or again to its
 * admin's retries of the same request with the same `Idempotency-Key` within a day.
 */
export const createApiKeyRoute = (deps: { issueApiKey: IssueApiKey }) =>
  defineRoute({
    method: 'POST',
    path: '/v1/admin/keys',
    access: 'admin',
    body: NewApiKeySchema,
    docs: {
      operationId: 'createApiKey',
      summary: 'Create an API key for a principal',
      description:
        "The key (`csk_` + 256 random bits) is in this answer only: only its SHA-256 is stored. Send an `Idempotency-Key` to make a retry safe: the same request sent again with it by the same admin within 24 hours (its answer lost to a timeout or a dropped connection) answers the key it made, with its secret, and makes no other (`idempotent-replayed: true`); two at once make one key. The key is answered as it is now: one revoked or expired since says so in `revokedAt` or `expiresAt`, and its secret no longer works. The secret is kept for those 24 hours sealed (AES-256-GCM) under a key derived from the deployment's signing key and the `Idempotency-Key`, which is itself stored only as a digest. The same key with another body is refused (422).",
      headers: {
        'idempotency-key': `Any 1 to ${IDEMPOTENCY_KEY_MAX_CHARS} printable ASCII characters naming this request, unique per request (a UUID): sent again with a retry of it. Scoped to the admin who sends it; remembered 24 hours.`,
      },
      responses: {
        201: {
          description: 'The new key, with its secret; or, to a retry, the key the request made.',
          json: newApiKeySchema,
          headers: {
            'idempotent-replayed':
              '`true` when this answers a retry: the key was made by an earlier copy of the request.',
          },
        },
      },
      errors: [409, 422],
    },
    handle: async ({ body, request, principal, scope }) => {
      const idempotencyKey = idempotencyKeyOf(request.headers);
      const { key, secret, replayed } = await deps.issueApiKey(
        body,
        idempotencyKey === undefined ? undefined : { admin: principal.userId, idempotencyKey },
      );
      scope.logger.info(replayed ? 'API key creation replayed' : 'API key created', {
        apiKeyId: key.id,
        principal: key.principal,
      });
      return json(
        201,
        { ...key, key: secret } satisfies z.infer<ReturnType<typeof newApiKeySchema>>,
        replayed ? { 'idempotent-replayed': 'true' } : {},
      );
    },
  });

const IDEMPOTENCY_KEY_MAX_CHARS = 255;

/** The request's Idempotency-Key, when it sent one. @throws ValidationError for a malformed one */
function idempotencyKeyOf(headers: Headers): string | undefined {
  const value = headers.get('idempotency-key');
  if (value === null) return undefined;
  if (
    !/^[\x20-\x7e]+$/.test(value) ||
    value.trim() === '' ||
    value.length > IDEMPOTENCY_KEY_MAX_CHARS
  ) {
    throw new ValidationError(
      `Idempotency-Key: 1 to ${IDEMPOTENCY_KEY_MAX_CHARS} printable ASCII characters (a UUID, say)`,
    );
  }
  return value;
}

/** GET /v1/admin/keys?principal&limit&cursor: newest first, never the secrets. */
export const listApiKeysRoute = (deps: { apiKeys: ApiKeyStore }) =>
  defineRoute({
    method: 'GET',
    path: '/v1/admin/keys',
    access: 'admin',
    query: z.extend(PageQuerySchema, {
      // As the budget routes check theirs: `alice ` (a stray space) would list nothing, unsaid.
      principal: z.optional(
        z.string().check(z.regex(USER_ID_PATTERN, 'not a valid user or team id')),
      ),
    }),
    docs: {
      operationId: 'listApiKeys',
      summary: 'API keys, newest first, never their secrets',
      params: { principal: 'Only the keys of this principal.' },
      responses: {
        200: {
          description: 'A page of keys.',
          json: () => z.object({ keys: z.array(apiKeySchema()), nextCursor: nextCursorSchema() }),
        },
      },
    },
    handle: async ({ query }) => {
      const page = await deps.apiKeys.list({
        limit: query.limit,
        ...(query.cursor && { cursor: query.cursor }),
        ...(query.principal && { principal: query.principal }),
      });
      // As every listing: `nextCursor` only while there is more.
      return json(200, {
        keys: page.items,
        ...(page.nextCursor && { nextCursor: page.nextCursor }),
      });
    },
  });

/** GET /v1/admin/keys/{id}: the key and what it spent this month. */
export const getApiKeyRoute = (deps: { apiKeys: ApiKeyStore; ledger: UsageLedger; clock: Clock }) =>
  defineRoute({
    method: 'GET',
    path: '/v1/admin/keys/:keyId',
    access: 'admin',
    docs: {
      operationId: 'getApiKey',
      summary: 'An API key and what it spent this month',
      params: { keyId: 'The key id (`key_…`), never its secret.' },
      responses: { 200: { description: 'The key and its usage.', json: apiKeyUsageSchema } },
      errors: [404],
    },
    handle: async ({ params }) => {
      const key = await deps.apiKeys.get(apiKeyIdOf(params));
      if (!key) throw apiKeyNotFound(params.keyId!);
      const month = await deps.ledger.keyMonth(key.id, monthOf(deps.clock()));
      return json(200, {
        ...key,
        usage: {
          month: month.month,
          requests: month.requests,
          costUsd: nanoToUsd(month.spentNanoUsd),
          heldUsd: nanoToUsd(month.heldNanoUsd - month.spentNanoUsd),
        },
      } satisfies z.infer<ReturnType<typeof apiKeyUsageSchema>>);
    },
  });

/** DELETE /v1/admin/keys/{id}: revoked at once here, everywhere within seconds. */
export const revokeApiKeyRoute = (deps: {
  apiKeys: ApiKeyStore;
  clock: Clock;
  /** Tells this instance's API key cache, so the key is refused here at once. */
  noteApiKeyRevoked: (key: ApiKey) => void;
}) =>
  defineRoute({
    method: 'DELETE',
    path: '/v1/admin/keys/:keyId',
    access: 'admin',
    docs: {
      operationId: 'revokeApiKey',
      summary: 'Revoke an API key',
      description:
        'Refused here at once and everywhere within 5 seconds. Revoking again answers the same `revokedAt`.',
      params: { keyId: 'The key id (`key_…`).' },
      responses: { 200: { description: 'The revoked key.', json: apiKeySchema } },
      errors: [404],
    },
    handle: async ({ params, scope }) => {
      const key = await deps.apiKeys.revoke(
        apiKeyIdOf(params),
        new Date(deps.clock()).toISOString(),
      );
      if (!key) throw apiKeyNotFound(params.keyId!);
      deps.noteApiKeyRevoked(key);
      scope.logger.info('API key revoked', { apiKeyId: key.id, principal: key.principal });
      return json(200, key);
    },
  });

/** PATCH /v1/admin/keys/{id}: the key's own limits, set or removed; its secret stays. */
export const changeApiKeyLimitsRoute = (deps: {
  changeApiKeyLimits: ChangeApiKeyLimits;
  /** Tells this instance's API key cache, so the new limits apply here at once. */
  noteApiKeyChanged: (key: ApiKey) => void;
}) =>
  defineRoute({
    method: 'PATCH',
    path: '/v1/admin/keys/:keyId',
    access: 'admin',
    body: ApiKeyLimitChangesSchema,
    docs: {
      operationId: 'changeApiKeyLimits',
      summary: "Change an API key's own budget, rates or models",
      description:
        "Each field given is set, `null` removes it (the principal's limits, or every model the deployment allows, then apply), one absent stays. Applies at once here and everywhere within 5 seconds; calls already holding budget run to their end. The secret, `createdAt`, `lastUsedAt` and `expiresAt` never change. A revoked key cannot change (409).",
      params: { keyId: 'The key id (`key_…`).' },
      responses: { 200: { description: 'The key as changed.', json: apiKeySchema } },
      errors: [404, 409],
    },
    handle: async ({ params, body, scope }) => {
      const key = await deps.changeApiKeyLimits(apiKeyIdOf(params), body);
      if (!key) throw apiKeyNotFound(params.keyId!);
      deps.noteApiKeyChanged(key);
      scope.logger.info('API key limits changed', {
        apiKeyId: key.id,
        principal: key.principal,
        changed: Object.keys(body),
        limits: {
          monthlyBudgetUsd: key.monthlyBudgetUsd ?? null,
          requestsPerMinute: key.requestsPerMinute ?? null,
          tokensPerMinute: key.tokensPerMinute ?? null,
          allowedModels: key.allowedModels ?? null,
        },
      });
      return json(200, key);
    },
  });

/** Only an id of ours is looked up: a longer one is past what a DynamoDB key may hold. */
function apiKeyIdOf(params: Record<string, string>): string {
  const id = params.keyId ?? '';
  if (!isApiKeyId(id)) throw apiKeyNotFound(id);
  return id;
}

/** No key id is longer than 36 characters: a longer one is named cut, not echoed whole. */
function apiKeyNotFound(id: string): NotFoundError {
  return new NotFoundError(`no API key ${namedId(id)}`);
}

/** A key as the admin API shows it: never its secret. */
const apiKeySchema = () =>
  z.object({
    id: z.string().check(z.describe('`key_<32 hex>`')),
    principal: z.string(),
    name: z.optional(z.string()),
    hint: z.string().check(z.describe("The secret's first and last characters.")),
    createdAt: instantSchema(),
    revokedAt: z.optional(instantSchema()),
    lastUsedAt: z.optional(instantSchema()),
    monthlyBudgetUsd: z.optional(usdSchema()),
    requestsPerMinute: z.optional(countSchema()),
    tokensPerMinute: z.optional(countSchema()),
    allowedModels: z.optional(z.array(z.string())),
    expiresAt: z.optional(instantSchema()),
  });

const newApiKeySchema = () =>
  z.extend(apiKeySchema(), {
    key: z.string().check(z.describe('The secret (`csk_…`): shown this once.')),
  });

const apiKeyUsageSchema = () =>
  z.extend(apiKeySchema(), {
    usage: z.object({
      month: z.string().check(z.describe('yyyy-mm (UTC)')),
      requests: countSchema(),
      costUsd: usdSchema(),
      heldUsd: usdSchema().check(z.describe('Reserved by calls in flight.')),
    }),
  });
