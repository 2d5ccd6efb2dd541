import { z } from 'zod';
import { ModelPricesSchema } from '../shared/domain/pricing/model-price.js';
import { PriceTable } from '../shared/domain/pricing/price-table.js';
import { JOBS_QUEUE_DEFINITION } from '../shared/jobs/queue-definition.js';

/**
 * The stack's configuration: read from CDK context (cdk.json, or `-c key=value`),
 * validated with zod at synth time. A wrong value fails synth with a message naming
 * the context key. Values given with `-c` arrive as strings, so numbers, booleans,
 * lists and JSON objects are also accepted in their string form.
 */

/** CloudWatch Logs accepts only these retention periods. */
const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288,
  3653,
] as const;

/**
 * The daily-burn alarm compares one day's spend with the monthly budget spread over
 * the longest month: a pace that would exhaust the budget even then is too fast.
 */
const DAYS_IN_LONGEST_MONTH = 31;

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const positive = z.coerce.number().positive();

const bool = z.union([
  z.boolean(),
  z.enum(['true', 'false']).transform((value) => value === 'true'),
]);

const list = z.union([
  z.array(z.string().min(1)),
  z.string().transform((value) =>
    value
      .split(',')
      .map((item) => item.trim())
      .filter(Boolean),
  ),
]);

/** A JSON object given in cdk.json, or as a JSON string with `-c`. */
const jsonObject = z.union([
  z.record(z.string(), z.unknown()),
  z.string().transform((value, ctx) => {
    try {
      return JSON.parse(value) as unknown;
    } catch {
      ctx.addIssue({ code: 'custom', message: `not valid JSON: ${value}` });
      return z.NEVER;
    }
  }),
]);

const secretArn = z
  .string()
  .regex(
    /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[\w/+=.@-]+$/,
    'must be a Secrets Manager secret ARN (arn:aws:secretsmanager:<region>:<account>:secret:<name>)',
  );

/** Treats `""` (an unset value in cdk.json) as absent. */
const optional = <T extends z.ZodType>(schema: T) =>
  z.preprocess((value) => (value === '' || value === null ? undefined : value), schema.optional());

export const InfraConfigSchema = z
  .object({
    /** CloudFormation stack name. @default 'ClaudeServerless' */
    stackName: z
      .string()
      .regex(/^[A-Za-z][A-Za-z0-9-]{0,127}$/)
      .default('ClaudeServerless'),

    /** Model used when a request names none. @default 'claude-sonnet-4-6' */
    defaultModel: z.string().min(1).default('claude-sonnet-4-6'),
    /** Further models a request may name. @default none (default and fallback only) */
    allowedModels: list.default([]),
    /** Tried when the model stays overloaded before the first token. @default none */
    fallbackModel: optional(z.string().min(1)),
    /** Price overrides in USD per million tokens, merged over the built-in list. @default {} */
    modelPrices: jsonObject.pipe(ModelPricesSchema).default({}),

    /** @default 4096 */
    maxOutputTokens: int(1, 1_000_000).default(4096),
    /** @default 32000 */
    maxMessageChars: int(1, 10_000_000).default(32_000),
    /** @default 100000 */
    contextWindowTokens: int(1, 10_000_000).default(100_000),
    /** @default 50000 */
    compactionThresholdTokens: int(1, 10_000_000).default(50_000),

    /** @default 10 */
    userMonthlyBudgetUsd: positive.default(10),
    /** @default 1000 */
    globalMonthlyBudgetUsd: positive.default(1000),
    /** @default 60 */
    userRequestsPerMinute: int(1, 100_000).default(60),
    /** @default 200000 */
    userTokensPerMinute: int(1, 100_000_000).default(200_000),

    /** @default 2 */
    modelMaxRetries: int(0, 10).default(2),
    /** Wait for the model's response headers, per attempt. @default 30000 */
    modelTimeoutMs: int(1000, 900_000).default(30_000),
    /** @default 20000 */
    streamIdleTimeoutMs: int(1000, 900_000).default(20_000),
    /** @default 5000 */
    deadlineMarginMs: int(0, 60_000).default(5_000),

    /** A document longer than this (estimated tokens) is summarized in parts. @default 50000 */
    documentChunkTokens: int(100, 1_000_000).default(50_000),
    /** Longest summary the worker asks for. @default 1024 */
    summaryMaxTokens: int(1, 1_000_000).default(1024),
    /** Parts of one document summarized at once. @default 4 */
    summaryConcurrency: int(1, 64).default(4),
    /** First retry delay of a throttled job, doubling per attempt. @default 30 */
    jobRetryBaseSeconds: int(1, 900).default(30),
    /** Longest document POST /v1/jobs accepts, in bytes. @default 200000 */
    maxDocumentBytes: int(1, 250_000).default(200_000),

    /** `hs256`: tokens signed with the stack's JWT secret; `oidc`: an issuer's JWKS. @default 'hs256' */
    authMode: z.enum(['hs256', 'oidc']).default('hs256'),
    /** Expected `iss`; required for oidc. @default none */
    jwtIssuer: optional(z.string().min(1)),
    /** Expected `aud`; required for oidc. @default none */
    jwtAudience: optional(z.string().min(1)),
    /** @default `${jwtIssuer}/.well-known/jwks.json` */
    jwksUrl: optional(z.url()),

    /**
     * `NONE`: public URL, every route but /health checks the JWT. `AWS_IAM`: callers
     * sign with SigV4 as well, and send the JWT in `x-user-authorization`. @default 'NONE'
     */
    functionUrlAuthType: z.enum(['NONE', 'AWS_IAM']).default('NONE'),
    /** Origins the function URL answers CORS for; `*` allows any. @default none (no CORS) */
    corsAllowedOrigins: list.default([]),

    /** @default 1024 */
    chatMemoryMb: int(128, 10_240).default(1024),
    /** Longest chat request, streaming included. @default 300 */
    chatTimeoutSeconds: int(10, 900).default(300),
    /** @default none (the account's unreserved pool) */
    chatReservedConcurrency: optional(int(1, 10_000)),
    /** @default 1024 */
    workerMemoryMb: int(128, 10_240).default(1024),
    /** @default JOBS_QUEUE_DEFINITION.workerTimeoutSeconds (120) */
    workerTimeoutSeconds: int(10, 900).default(JOBS_QUEUE_DEFINITION.workerTimeoutSeconds),
    /** Concurrent worker invocations the SQS event source may run. @default 10 */
    workerMaxConcurrency: int(2, 1000).default(10),
    /** @default none (the account's unreserved pool) */
    workerReservedConcurrency: optional(int(1, 10_000)),

    /** Must be a CloudWatch Logs retention period. @default 30 */
    logRetentionDays: z.coerce
      .number()
      .refine((days) => (LOG_RETENTION_DAYS as readonly number[]).includes(days), {
        message: `must be one of ${LOG_RETENTION_DAYS.join(', ')}`,
      })
      .default(30),
    /** @default 'INFO' */
    logLevel: z.enum(['DEBUG', 'INFO', 'WARN', 'ERROR']).default('INFO'),

    /** Use an existing secret holding the Anthropic key. @default the stack creates one */
    anthropicApiKeySecretArn: optional(secretArn),
    /** Use an existing HS256 signing secret. @default the stack generates one (hs256 only) */
    jwtSecretArn: optional(secretArn),

    /**
     * What happens to the table, the secrets the stack created and the log groups when
     * they leave the stack. @default 'retain'
     */
    removalPolicy: z.enum(['retain', 'destroy']).default('retain'),
    /** DynamoDB deletion protection. @default true */
    tableDeletionProtection: bool.default(true),

    /** Alarm notifications go here (SNS e-mail subscription). @default none */
    alarmEmail: optional(z.email()),
    /** P99 time to first token per 5 minutes. @default 5000 */
    timeToFirstTokenP99AlarmMs: positive.default(5_000),
    /** P99 turn latency per 5 minutes. @default 60000 */
    turnLatencyP99AlarmMs: positive.default(60_000),
    /** Failed turns as a percentage of requests over 5 minutes. @default 1 */
    errorRateAlarmPercent: positive.default(1),
    /** Month-to-date spend as a percentage of the global budget. @default 80 */
    budgetUsedAlarmPercent: positive.default(80),
    /** One day's model spend. @default globalMonthlyBudgetUsd / 31 */
    dailyCostAlarmUsd: optional(positive),
    /** Age of the oldest message on the jobs queue. @default 1800 */
    jobsQueueAgeAlarmSeconds: int(60, 1_209_600).default(1800),
  })
  .superRefine((config, ctx) => {
    const issue = (path: string, message: string) =>
      ctx.addIssue({ code: 'custom', path: [path], message });

    if (config.authMode === 'oidc') {
      if (!config.jwtIssuer) issue('jwtIssuer', 'authMode oidc needs jwtIssuer');
      if (!config.jwtAudience) issue('jwtAudience', 'authMode oidc needs jwtAudience');
      if (config.jwtSecretArn) issue('jwtSecretArn', 'authMode oidc does not use a JWT secret');
    }

    const prices = new PriceTable(JSON.stringify(config.modelPrices));
    const models = { defaultModel: [config.defaultModel], allowedModels: config.allowedModels };
    if (config.fallbackModel) Object.assign(models, { fallbackModel: [config.fallbackModel] });
    for (const [key, names] of Object.entries(models)) {
      for (const model of names.filter((name) => !prices.has(name))) {
        issue(key, `model ${JSON.stringify(model)} has no price: add it to modelPrices`);
      }
    }

    if (config.compactionThresholdTokens >= config.contextWindowTokens) {
      issue('compactionThresholdTokens', 'must be less than contextWindowTokens');
    }

    // Every model attempt may wait modelTimeoutMs for headers; the turn must still end
    // (deadlineMarginMs early) before the function is killed.
    const worstWaitSeconds =
      (config.modelTimeoutMs * (config.modelMaxRetries + 1) + config.deadlineMarginMs) / 1000;
    for (const key of ['chatTimeoutSeconds', 'workerTimeoutSeconds'] as const) {
      if (config[key] < worstWaitSeconds) {
        issue(
          key,
          `must be at least ${worstWaitSeconds} s: modelTimeoutMs x (modelMaxRetries + 1) + deadlineMarginMs`,
        );
      }
    }
    // AWS: a queue's visibility timeout should be at least 6x the consumer's timeout.
    const maxWorkerTimeout = Math.floor(JOBS_QUEUE_DEFINITION.visibilityTimeoutSeconds / 6);
    if (config.workerTimeoutSeconds > maxWorkerTimeout) {
      issue(
        'workerTimeoutSeconds',
        `must be at most ${maxWorkerTimeout} s (the jobs queue's visibility timeout / 6)`,
      );
    }
    if (
      config.workerReservedConcurrency !== undefined &&
      config.workerReservedConcurrency < config.workerMaxConcurrency
    ) {
      issue(
        'workerReservedConcurrency',
        'must be at least workerMaxConcurrency, or the event source is throttled',
      );
    }
  })
  .transform((config) => ({
    ...config,
    dailyCostAlarmUsd:
      config.dailyCostAlarmUsd ?? config.globalMonthlyBudgetUsd / DAYS_IN_LONGEST_MONTH,
  }));

export type InfraConfig = z.output<typeof InfraConfigSchema>;

/** The configuration keys, as they appear in cdk.json's `context`. */
export type InfraConfigKey = keyof z.input<typeof InfraConfigSchema>;

export class InfraConfigError extends Error {
  override readonly name = 'InfraConfigError';
}

/**
 * Reads the configuration from a context lookup (`node.tryGetContext`).
 * @throws InfraConfigError naming every invalid key and the value it had
 */
export function loadInfraConfig(getContext: (key: string) => unknown): InfraConfig {
  const keys = Object.keys(InfraConfigSchema.in.shape) as InfraConfigKey[];
  const raw = Object.fromEntries(keys.map((key) => [key, getContext(key)]));
  const parsed = InfraConfigSchema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const shown = new Set<string>();
  const problems = parsed.error.issues.map((issue) => {
    const key = String(issue.path[0] ?? 'config');
    // The offending value, once per key.
    const value = key in raw && !shown.has(key) ? ` (got ${JSON.stringify(raw[key])})` : '';
    shown.add(key);
    return `${issue.path.join('.') || key}: ${issue.message}${value}`;
  });
  throw new InfraConfigError(
    `invalid configuration (cdk.json context or -c): ${problems.join('; ')}`,
  );
}
