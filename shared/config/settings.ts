import { z } from 'zod';

/**
 * Every setting a function reads, by environment variable name, validated once at
 * cold start. The CDK stack sets these from its configuration; the local stack from
 * the shell environment. Secrets are never here: only where to find them.
 */
const csv = z.string().transform((value) =>
  value
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean),
);

const positiveNumber = z.coerce.number().positive();
const positiveInt = z.coerce.number().int().positive();

export const SettingsSchema = z
  .object({
    TABLE_NAME: z.string().min(1),
    JOBS_QUEUE_URL: z.string().url(),
    /** Worker only: where messages that can never succeed are moved at once. */
    DEAD_LETTER_QUEUE_URL: z.string().url().optional(),
    /** Local stack only: DynamoDB Local and the SQS emulator. @default the AWS endpoints */
    DYNAMODB_ENDPOINT: z.string().url().optional(),
    SQS_ENDPOINT: z.string().url().optional(),

    /** Where the Anthropic key lives. On AWS a Secrets Manager ARN; locally the key itself. */
    ANTHROPIC_API_KEY_SECRET_ARN: z.string().optional(),
    ANTHROPIC_API_KEY: z.string().optional(),
    /** @default the SDK's default (https://api.anthropic.com) */
    ANTHROPIC_BASE_URL: z.string().url().optional(),

    /** `hs256`: tokens signed with the JWT secret; `oidc`: an issuer's JWKS. @default hs256 */
    AUTH_MODE: z.enum(['hs256', 'oidc']).default('hs256'),
    JWT_SECRET_ARN: z.string().optional(),
    /** Local stack only: the dev signing secret. */
    JWT_SECRET: z.string().optional(),
    /** Expected `iss`; required for oidc, optional for hs256. */
    JWT_ISSUER: z.string().optional(),
    /** Expected `aud`; required for oidc, optional for hs256. */
    JWT_AUDIENCE: z.string().optional(),
    /** @default `${JWT_ISSUER}/.well-known/jwks.json` */
    JWKS_URL: z.string().url().optional(),
    /**
     * The request header carrying `Bearer <JWT>`. With a function URL of auth type AWS_IAM,
     * SigV4 takes `authorization`, so the stack moves the JWT to `x-user-authorization`.
     * @default authorization
     */
    AUTH_TOKEN_HEADER: z
      .string()
      .regex(/^[A-Za-z0-9-]+$/)
      .transform((name) => name.toLowerCase())
      .default('authorization'),
    /** Origins allowed by CORS, comma-separated. @default none */
    CORS_ALLOWED_ORIGINS: csv.default([]),

    DEFAULT_MODEL: z.string().min(1).default('claude-sonnet-4-6'),
    /** Comma-separated; DEFAULT_MODEL and FALLBACK_MODEL are always allowed. */
    ALLOWED_MODELS: csv.default([]),
    FALLBACK_MODEL: z.string().optional(),
    /** Price overrides, JSON: `{"model":{"input":3,"output":15,...}}` in USD per million tokens. */
    MODEL_PRICES: z.string().optional(),
    /** Upper bound of maxTokens a request may ask for. @default 4096 */
    MAX_OUTPUT_TOKENS: positiveInt.default(4096),
    /** Longest user message accepted, in characters. @default 32000 */
    MAX_MESSAGE_CHARS: positiveInt.default(32_000),
    /** Estimated tokens of history sent to Claude per turn. @default 100000 */
    CONTEXT_WINDOW_TOKENS: positiveInt.default(100_000),
    /** History size (estimated tokens) that triggers compaction. @default 50000 */
    COMPACTION_THRESHOLD_TOKENS: positiveInt.default(50_000),

    /** @default 10 */
    USER_MONTHLY_BUDGET_USD: positiveNumber.default(10),
    /** @default 1000 */
    GLOBAL_MONTHLY_BUDGET_USD: positiveNumber.default(1000),
    /** @default 60 */
    USER_REQUESTS_PER_MINUTE: positiveInt.default(60),
    /** @default 200000 */
    USER_TOKENS_PER_MINUTE: positiveInt.default(200_000),

    /** A document longer than this (estimated tokens) is summarized in parts. @default 50000 */
    DOCUMENT_CHUNK_TOKENS: positiveInt.default(50_000),
    /** Longest summary the worker asks for, in tokens. @default 1024 */
    SUMMARY_MAX_TOKENS: positiveInt.default(1024),
    /** Parts of one document summarized at once. @default 4 */
    SUMMARY_CONCURRENCY: positiveInt.default(4),
    /** First retry delay of a throttled job; doubles per attempt, at most 15 minutes. @default 30 */
    JOB_RETRY_BASE_SECONDS: positiveInt.default(30),
    /** Longest document POST /v1/jobs accepts, in bytes (an SQS message holds 256 KiB). @default 200000 */
    MAX_DOCUMENT_BYTES: positiveInt.default(200_000),

    /** Model retries the SDK makes before the first token. @default 2 */
    MODEL_MAX_RETRIES: z.coerce.number().int().min(0).max(10).default(2),
    /** Longest wait for the model's response headers, per attempt. @default 30000 */
    MODEL_TIMEOUT_MS: positiveInt.default(30_000),
    /** Abort an upstream stream silent for this long. @default 20000 */
    STREAM_IDLE_TIMEOUT_MS: positiveInt.default(20_000),
    /** End the turn this long before the function timeout. @default 5000 */
    DEADLINE_MARGIN_MS: positiveInt.default(5_000),
  })
  .superRefine((settings, ctx) => {
    if (!settings.ANTHROPIC_API_KEY_SECRET_ARN && !settings.ANTHROPIC_API_KEY) {
      ctx.addIssue({
        code: 'custom',
        path: ['ANTHROPIC_API_KEY_SECRET_ARN'],
        message: 'set ANTHROPIC_API_KEY_SECRET_ARN (or ANTHROPIC_API_KEY locally)',
      });
    }
  });

export type Settings = z.infer<typeof SettingsSchema>;

/** What only a function that verifies tokens (the chat function) must have. */
export function authSettingsProblems(
  settings: Settings,
): Array<{ setting: string; message: string }> {
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
