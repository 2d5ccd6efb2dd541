import * as z from '../validation/zod.js';

/**
 * Every setting a function reads, by environment variable name, validated once at
 * cold start. The CDK stack sets these from its configuration; the local stack from
 * the shell environment. Secrets are never here: only where to find them.
 */
const csv = z.pipe(
  z.string(),
  z.transform((value) =>
    value
      .split(',')
      .map((item) => item.trim())
      .filter(Boolean),
  ),
);

const nonEmpty = z.string().check(z.minLength(1));
const url = z.url();
const positiveNumber = z.coerce.number().check(z.positive());
const positiveInt = z.pipe(z.coerce.number(), z.int().check(z.positive()));

export const SettingsSchema = z.object({
  TABLE_NAME: nonEmpty,
  JOBS_QUEUE_URL: url,
  /** Worker only: where messages that can never succeed are moved at once. */
  DEAD_LETTER_QUEUE_URL: z.optional(url),
  /** Local stack only: DynamoDB Local and the SQS emulator. @default the AWS endpoints */
  DYNAMODB_ENDPOINT: z.optional(url),
  SQS_ENDPOINT: z.optional(url),

  /** Where the Anthropic key lives. On AWS a Secrets Manager ARN; locally the key itself. */
  ANTHROPIC_API_KEY_SECRET_ARN: z.optional(z.string()),
  ANTHROPIC_API_KEY: z.optional(z.string()),
  /** @default the SDK's default (https://api.anthropic.com) */
  ANTHROPIC_BASE_URL: z.optional(url),

  /** `hs256`: tokens signed with the JWT secret; `oidc`: an issuer's JWKS. @default hs256 */
  AUTH_MODE: z._default(z.enum(['hs256', 'oidc']), 'hs256'),
  JWT_SECRET_ARN: z.optional(z.string()),
  /** Local stack only: the dev signing secret. */
  JWT_SECRET: z.optional(z.string()),
  /** Expected `iss`; required for oidc, optional for hs256. */
  JWT_ISSUER: z.optional(z.string()),
  /** Expected `aud`; required for oidc, optional for hs256. */
  JWT_AUDIENCE: z.optional(z.string()),
  /** @default `${JWT_ISSUER}/.well-known/jwks.json` */
  JWKS_URL: z.optional(url),
  /**
   * The request header carrying `Bearer <JWT>`. With a function URL of auth type AWS_IAM,
   * SigV4 takes `authorization`, so the stack moves the JWT to `x-user-authorization`.
   * @default authorization
   */
  AUTH_TOKEN_HEADER: z._default(
    z.pipe(
      z.string().check(z.regex(/^[A-Za-z0-9-]+$/)),
      z.transform((name) => name.toLowerCase()),
    ),
    'authorization',
  ),
  /** Origins allowed by CORS, comma-separated. @default none */
  CORS_ALLOWED_ORIGINS: z._default(csv, []),

  DEFAULT_MODEL: z._default(nonEmpty, 'claude-sonnet-4-6'),
  /** Comma-separated; DEFAULT_MODEL and FALLBACK_MODEL are always allowed. */
  ALLOWED_MODELS: z._default(csv, []),
  FALLBACK_MODEL: z.optional(z.string()),
  /** Price overrides, JSON: `{"model":{"input":3,"output":15,...}}` in USD per million tokens. */
  MODEL_PRICES: z.optional(z.string()),
  /** Upper bound of maxTokens a request may ask for. @default 4096 */
  MAX_OUTPUT_TOKENS: z._default(positiveInt, 4096),
  /** Longest user message accepted, in characters. @default 32000 */
  MAX_MESSAGE_CHARS: z._default(positiveInt, 32_000),
  /** Estimated tokens of history sent to Claude per turn. @default 100000 */
  CONTEXT_WINDOW_TOKENS: z._default(positiveInt, 100_000),
  /** History size (estimated tokens) that triggers compaction. @default 50000 */
  COMPACTION_THRESHOLD_TOKENS: z._default(positiveInt, 50_000),

  /** @default 10 */
  USER_MONTHLY_BUDGET_USD: z._default(positiveNumber, 10),
  /** @default 1000 */
  GLOBAL_MONTHLY_BUDGET_USD: z._default(positiveNumber, 1000),
  /** @default 60 */
  USER_REQUESTS_PER_MINUTE: z._default(positiveInt, 60),
  /** @default 200000 */
  USER_TOKENS_PER_MINUTE: z._default(positiveInt, 200_000),

  /** A document longer than this (estimated tokens) is summarized in parts. @default 50000 */
  DOCUMENT_CHUNK_TOKENS: z._default(positiveInt, 50_000),
  /** Longest summary the worker asks for, in tokens. @default 1024 */
  SUMMARY_MAX_TOKENS: z._default(positiveInt, 1024),
  /** Parts of one document summarized at once. @default 4 */
  SUMMARY_CONCURRENCY: z._default(positiveInt, 4),
  /** First retry delay of a throttled job; doubles per attempt, at most 15 minutes. @default 30 */
  JOB_RETRY_BASE_SECONDS: z._default(positiveInt, 30),
  /** Longest document POST /v1/jobs accepts, in bytes (an SQS message holds 256 KiB). @default 200000 */
  MAX_DOCUMENT_BYTES: z._default(positiveInt, 200_000),

  /** Model retries the SDK makes before the first token. @default 2 */
  MODEL_MAX_RETRIES: z._default(
    z.pipe(z.coerce.number(), z.int().check(z.minimum(0), z.maximum(10))),
    2,
  ),
  /** Longest wait for the model's response headers, per attempt. @default 30000 */
  MODEL_TIMEOUT_MS: z._default(positiveInt, 30_000),
  /** Abort an upstream stream silent for this long. @default 20000 */
  STREAM_IDLE_TIMEOUT_MS: z._default(positiveInt, 20_000),
  /** End the turn this long before the function timeout. @default 5000 */
  DEADLINE_MARGIN_MS: z._default(positiveInt, 5_000),
});

export type Settings = z.infer<typeof SettingsSchema>;

export interface SettingsProblem {
  setting: string;
  message: string;
}

/** Settings that are each optional but not all at once. */
export function missingSettings(settings: Settings): SettingsProblem[] {
  if (!settings.ANTHROPIC_API_KEY_SECRET_ARN && !settings.ANTHROPIC_API_KEY) {
    return [
      {
        setting: 'ANTHROPIC_API_KEY_SECRET_ARN',
        message: 'set ANTHROPIC_API_KEY_SECRET_ARN (or ANTHROPIC_API_KEY locally)',
      },
    ];
  }
  return [];
}

/** What only a function that verifies tokens (the chat function) must have. */
export function authSettingsProblems(settings: Settings): SettingsProblem[] {
  if (settings.AUTH_MODE === 'hs256' && !settings.JWT_SECRET_ARN && !settings.JWT_SECRET) {
    return [
      {
        setting: 'JWT_SECRET_ARN',
        message: 'AUTH_MODE=hs256 needs JWT_SECRET_ARN (or JWT_SECRET locally)',
      },
    ];
  }
  if (settings.AUTH_MODE === 'oidc' && (!settings.JWT_ISSUER || !settings.JWT_AUDIENCE)) {
    return [{ setting: 'JWT_ISSUER', message: 'AUTH_MODE=oidc needs JWT_ISSUER and JWT_AUDIENCE' }];
  }
  return [];
}
