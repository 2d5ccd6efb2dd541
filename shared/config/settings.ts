import { MAX_BUDGET_USD, MIN_BUDGET_USD } from '../domain/budget.js';
import { modelPricesSchema } from '../domain/pricing/model-price.js';
import { MAX_RETRY_DELAY_SECONDS } from '../jobs/queue-age.js';
import { JOBS_QUEUE_DEFINITION } from '../jobs/queue-definition.js';
import * as z from '../validation/zod.js';
import {
  choice,
  decimal,
  email,
  flag,
  int,
  json,
  list,
  numberIn,
  ORIGIN_PATTERN,
  type SettingType,
  secretArn,
  text,
  url,
} from './setting-types.js';

/**
 * Who reads a setting: the functions (from their environment), the stack (from CDK
 * context: cdk.json or `-c key=value`), or both. A functions-only setting is set by
 * the stack itself (a table name, a queue URL) or by the local stack.
 */
export type Readers = 'functions' | 'stack' | 'both';

export interface SettingDefinition<T = unknown> extends SettingType<T> {
  readonly readers: Readers;
  /** One line: what it does. */
  readonly doc: string;
}

// Assigned, not spread: a spread would build the type's schema (a getter) at once.
const setting = <T, const R extends Readers>(readers: R, doc: string, type: SettingType<T>) =>
  Object.assign(type, { readers, doc });

const SECONDS_PER_DAY = 86_400;

/**
 * What CloudWatch takes as a namespace: 1 to 255 characters (the API's pattern `[^:].*`), of
 * those its concepts page lists, and not `AWS/…` (reserved for AWS services).
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_Metric.html
 */
const CLOUDWATCH_NAMESPACE = /^(?!:|AWS\/)[0-9A-Za-z._\-/#: ]{1,255}$/;

/** CloudWatch Logs accepts only these retention periods. */
const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288,
  3653,
];

/**
 * Every setting, defined once: its type and bounds, default and doc. The CDK context
 * schema (infra/config.ts) and the functions' environment schema (load-settings.ts)
 * are both derived from this table; a function reads `MAX_OUTPUT_TOKENS` for the
 * context key `maxOutputTokens` (see {@link envNameOf}).
 */
/** Where the Anthropic SDK calls when neither `anthropicBaseUrl` nor ANTHROPIC_BASE_URL says. */
export const ANTHROPIC_API_URL = 'https://api.anthropic.com';

export const SETTINGS = {
  // Models
  defaultModel: setting(
    'both',
    'Model used when a request names none.',
    text({ default: 'claude-sonnet-4-6' }),
  ),
  allowedModels: setting(
    'both',
    'Further models a request may name (the default and fallback models are always allowed).',
    list(),
  ),
  fallbackModel: setting(
    'both',
    "Tried, with the same retries, when a chat turn's model stays overloaded before the first token (not for an API key that may not use it; /v1/messages has none). A turn holds the dearer of the two models' worst cases.",
    text(),
  ),
  modelPrices: setting(
    'both',
    'Price overrides in USD per million tokens, merged over the built-in list: {"model":{"input","output","cacheWrite5m","cacheWrite1h","cacheRead"}}; a model priced by prompt length adds "longPrompt":{"overTokens",…the same five}, paid by every token of a call whose prompt (input, cache reads and writes) is over overTokens.',
    json(modelPricesSchema, {}),
  ),
  anthropicBaseUrl: setting(
    'both',
    `Where the Anthropic API is (a proxy, or the local Claude), without the /v1 the SDK adds itself. Default: the SDK default, ${ANTHROPIC_API_URL}.`,
    url(),
  ),

  // Limits
  maxOutputTokens: setting(
    'both',
    'Largest maxTokens a request may ask for; larger requests are capped. An answer also ends (as max_tokens) at 350,000 bytes of text, the most one message item stores (~80,000 tokens of English).',
    int({ min: 1, max: 1_000_000, default: 4096 }),
  ),
  maxMessageChars: setting(
    'both',
    'Longest user message accepted, in characters (UTF-16 code units); at most 100,000, so that it fits the one DynamoDB item it is stored in.',
    int({ min: 1, max: 100_000, default: 32_000 }),
  ),
  contextWindowTokens: setting(
    'both',
    'Estimated tokens of history sent to Claude per turn.',
    int({ min: 1, max: 10_000_000, default: 100_000 }),
  ),
  compactionThresholdTokens: setting(
    'both',
    'History size (estimated tokens) that triggers compaction; below contextWindowTokens.',
    int({ min: 1, max: 10_000_000, default: 50_000 }),
  ),

  // Budgets and rate limits
  userMonthlyBudgetUsd: setting(
    'both',
    'Monthly budget of each user, in USD, binding the month under way too; per-user overrides live in the table.',
    decimal({ min: MIN_BUDGET_USD, max: MAX_BUDGET_USD, default: 10 }),
  ),
  globalMonthlyBudgetUsd: setting(
    'both',
    'Monthly budget of the whole deployment, in USD.',
    decimal({ min: MIN_BUDGET_USD, max: MAX_BUDGET_USD, default: 1000 }),
  ),
  workspaceInferenceGeo: setting(
    'both',
    "The default inference geography of the Anthropic workspace the key belongs to (its default_inference_geo). With us, every call to a Claude 4.6 or later model is billed 1.1 times the list price, so its worst case is held at 1.1 times (models before 4.6 always cost the list price); a request's own inference_geo wins.",
    choice(['global', 'us'], 'global'),
  ),
  userRequestsPerMinute: setting(
    'both',
    'Requests per user per minute.',
    int({ min: 1, max: 100_000, default: 60 }),
  ),
  userTokensPerMinute: setting(
    'both',
    'Tokens (estimated prompt + maxTokens, corrected after the call) per user per minute; above maxOutputTokens, which a turn naming no maxTokens asks for.',
    int({ min: 1, max: 100_000_000, default: 200_000 }),
  ),

  // The Anthropic Messages API (/v1/messages)
  messagesMaxTokens: setting(
    'both',
    'Largest max_tokens a /v1/messages request may ask for; a larger one is a 400. The AI SDK asks for the largest output of the model (128000 for the 4.6 models) unless told otherwise; Claude Code asks for 32000.',
    int({ min: 1, max: 1_000_000, default: 128_000 }),
  ),
  allowedBetas: setting(
    'both',
    "anthropic-beta values /v1/messages forwards; any other is a 400. The default lists betas Claude Code, the AI SDK and the Anthropic SDK's beta helpers send that do not change prices; * forwards every beta (some do change prices: a 1M context, fast mode, code execution hours).",
    list({
      default: [
        'claude-code-20250219',
        'interleaved-thinking-2025-05-14',
        'fine-grained-tool-streaming-2025-05-14',
        'token-efficient-tools-2025-02-19',
        'context-management-2025-06-27',
        'extended-cache-ttl-2025-04-11',
        'prompt-caching-2024-07-31',
        'pdfs-2024-09-25',
        'output-128k-2025-02-19',
        'structured-outputs-2025-11-13',
        'structured-outputs-2025-12-15',
        'token-counting-2024-11-01',
        'advanced-tool-use-2025-11-20',
        'effort-2025-11-24',
        'web-fetch-2025-09-10',
        'mid-conversation-system-2026-04-07',
        // Claude Code's own on its main requests (seen on the wire): how the answer's
        // thinking is shown and counted, and how its prompt cache is scoped and explained.
        'redact-thinking-2026-02-12',
        'thinking-token-count-2026-05-13',
        'prompt-caching-scope-2026-01-05',
        'cache-diagnosis-2026-04-07',
      ],
    }),
  ),
  messagesStreamIdleTimeoutMs: setting(
    'both',
    'A /v1/messages stream silent this long, not even a ping, is aborted (an error event; billed as cut). Longer than streamIdleTimeoutMs: Claude may think for minutes without showing it, the API sending only a ping about every 30 s meanwhile.',
    int({ min: 1000, max: 900_000, default: 90_000 }),
  ),
  responseCacheTtlSeconds: setting(
    'both',
    'How long a complete answer is replayed for an identical request (/v1/messages, and a /v1/chat turn that starts a conversation); 0 turns the response cache off.',
    int({ min: 0, max: 2_592_000, default: 0 }),
  ),
  responseCacheScope: setting(
    'both',
    'principal: a cached answer is replayed only to the principal it was made for; deployment: to anyone asking the same.',
    choice(['principal', 'deployment'], 'principal'),
  ),
  adminClaim: setting(
    'both',
    'The JWT claim that makes a caller an admin (/v1/admin/*), as claim=value; the claim may be a string or a list holding the value.',
    text({
      default: 'groups=admin',
      // A claim's name may be a URL: Auth0 and others namespace custom claims that way.
      pattern: /^[\w.:/-]{1,256}=[^\s=]{1,128}$/,
      describe: 'claim=value, e.g. groups=admin or https://app.example.com/roles=admin',
    }),
  ),
  adminIamPrincipals: setting(
    'both',
    'With an AWS_IAM function URL: IAM principal ARNs (the SigV4 caller) that are admins; a role ARN admits every session of the role.',
    list({
      item: () =>
        z
          .string()
          .check(z.regex(/^arn:aws[a-z-]*:(iam|sts)::\d{12}:[\w+=,.@/-]+$/, 'an IAM or STS ARN')),
      describe: 'a list of IAM principal ARNs',
    }),
  ),

  // Time budget of a model call
  modelMaxRetries: setting(
    'both',
    "Retries of a model call (throttling, overload, connection errors, an overload sent as a 200 stream's first event) before the first token. On /v1/messages and count_tokens only for callers that do not retry themselves: an official SDK (Claude Code's too) or the AI SDK gets one upstream call per attempt of its own, so that its maxRetries is what it gets.",
    int({ min: 0, max: 10, default: 2 }),
  ),
  modelTimeoutMs: setting(
    'both',
    "Longest wait for the model's response headers, per attempt; a non-streamed /v1/messages call, whose headers come with its whole answer, waits until the function's deadline.",
    int({ min: 1000, max: 900_000, default: 30_000 }),
  ),
  firstByteTimeoutMs: setting(
    'both',
    'Longest a caller waits for the answer to start, retries and fallback included; then 503 (or 429 with retry-after). Not for a non-streamed /v1/messages call: its answer starts only once whole.',
    int({ min: 1000, max: 300_000, default: 15_000 }),
  ),
  maxRetryWaitMs: setting(
    'both',
    'Longest retry-after the SDK waits before retrying; a longer one is answered at once, with that retry-after.',
    int({ min: 0, max: 60_000, default: 10_000 }),
  ),
  streamIdleTimeoutMs: setting(
    'both',
    'A chat model stream silent this long is aborted; the partial answer is kept. Not while Claude thinks (a thinking block began: the newest models think unasked and unseen, the API sending only pings, which the SDK does not pass on): the deadline bounds that. /v1/messages: messagesStreamIdleTimeoutMs; a job call has no idle watchdog: its deadline bounds it.',
    int({ min: 1000, max: 900_000, default: 20_000 }),
  ),
  deadlineMarginMs: setting(
    'both',
    'A turn ends this long before the function timeout, so its answer is stored in time.',
    int({ min: 1000, max: 60_000, default: 5_000 }),
  ),

  // Jobs
  documentChunkTokens: setting(
    'both',
    'A document longer than this (estimated tokens) is summarized in parts (map-reduce); well below the largest document, so long ones are the normal case.',
    int({ min: 100, max: 1_000_000, default: 20_000 }),
  ),
  summaryMaxTokens: setting(
    'both',
    "Longest summary the worker asks for, in tokens. A summary (a part's too) also ends (as max_tokens) at 350,000 bytes of text, the most one DynamoDB item stores (~80,000 tokens of English). One must be written within workerTimeoutSeconds (less the deadline margin), else it is cut and its job retried until dead-lettered: at ~50 tokens a second, 120 s writes ~5,000.",
    int({ min: 1, max: 1_000_000, default: 1024 }),
  ),
  summaryConcurrency: setting(
    'both',
    'Parts of one document summarized at once.',
    int({ min: 1, max: 64, default: 4 }),
  ),
  jobRetryBaseSeconds: setting(
    'both',
    "First retry delay of a throttled job; doubles per attempt, at least the provider's retry-after, at most 15 minutes.",
    int({ min: 1, max: MAX_RETRY_DELAY_SECONDS, default: 30 }),
  ),
  maxDocumentBytes: setting(
    'both',
    "Longest document POST /v1/jobs accepts, in bytes (UTF-8); its message must also fit the queue's 1 MiB once JSON-encoded.",
    int({ min: 1, max: 1_048_576, default: 1_000_000 }),
  ),
  batchPollSeconds: setting(
    'both',
    "How often a batch job (priority batch, the Message Batches API) looks at its batch: the delay of its follow-up message (on its own queue, which Lambda would stop as a runaway loop after 16 rounds: the worker's recursive loop detection is set to `Allow`).",
    int({ min: 1, max: MAX_RETRY_DELAY_SECONDS, default: 60 }),
  ),

  // Who is calling
  authMode: setting(
    'both',
    'hs256: tokens signed with the JWT secret; oidc: verified against an issuer’s JWKS.',
    choice(['hs256', 'oidc'], 'hs256'),
  ),
  jwtIssuer: setting(
    'both',
    "Expected iss claim; required for oidc, where it is the issuer's http(s) URL unless jwksUrl is set.",
    text(),
  ),
  jwtAudience: setting('both', 'Expected aud claim; required for oidc.', text()),
  jwksUrl: setting('both', 'Default: <jwtIssuer>/.well-known/jwks.json.', url()),
  maxTokenLifetimeSeconds: setting(
    'both',
    'Tokens must carry exp; one valid for longer than this (exp - iat; iat taken as now plus tokenClockToleranceSeconds when it is missing or later) is refused.',
    int({ min: 60, max: 31_536_000, default: 86_400 }),
  ),
  tokenClockToleranceSeconds: setting(
    'both',
    'How far the token issuer’s clock may be from Lambda’s: a token is accepted this long before its nbf and after its exp.',
    int({ min: 0, max: 300, default: 30 }),
  ),
  authTokenHeader: setting(
    'functions',
    'The request header carrying Bearer <JWT>; the stack sets x-user-authorization when the function URL uses AWS_IAM (SigV4 takes Authorization).',
    text({ default: 'authorization', pattern: /^[A-Za-z0-9-]+$/, describe: 'a header name' }),
  ),

  // Secrets: never values, only where they are
  anthropicApiKeySecretArn: setting(
    'both',
    'A secret holding the Anthropic API key. Default: the stack creates one (put your key in it).',
    secretArn(),
  ),
  jwtSecretArn: setting(
    'both',
    'The HS256 signing secret of the tokens. Default: the stack generates one (hs256 only).',
    secretArn(),
  ),
  signingKeySecretArn: setting(
    'both',
    "The secret that seals page cursors (opaque, tamper-evident) and, for a day, the secret of an API key created with an Idempotency-Key (for that request's retries). Default: the stack generates one.",
    secretArn(),
  ),
  anthropicApiKey: setting(
    'functions',
    'Local stack only: the Anthropic key itself (on AWS it is read from anthropicApiKeySecretArn).',
    // Sent in a header: the HTTP client's refusal of a line break (a note pasted under the
    // key) quotes the whole value, and each call would log it.
    text({ pattern: /^[\x21-\x7e]+$/, describe: 'the key (printable ASCII, no spaces)' }),
  ),
  jwtSecret: setting('functions', 'Local stack only: the HS256 signing secret itself.', text()),
  signingKey: setting('functions', 'Local stack only: the signing key itself.', text()),

  // Resources, set by the stack (or the local stack)
  tableName: setting('functions', 'The DynamoDB table.', text({ required: true })),
  powertoolsMetricsNamespace: setting(
    'functions',
    "The CloudWatch namespace the functions publish their metrics under (Powertools' own variable): the stack's name, which its alarms and dashboard read. Required: without it Powertools would publish under default_namespace, which no alarm reads, so the function does not start.",
    text({
      required: true,
      pattern: CLOUDWATCH_NAMESPACE,
      describe: 'a CloudWatch namespace (letters, digits, . - _ / # : and spaces; not AWS/…)',
    }),
  ),
  jobsQueueUrl: setting('functions', 'The jobs queue (chat and worker).', url()),
  deadLetterQueueUrl: setting(
    'functions',
    'Where the worker moves messages that can never succeed; the worker does not start without it.',
    url(),
  ),
  dynamodbEndpoint: setting('functions', 'Local stack only: DynamoDB Local.', url()),
  sqsEndpoint: setting('functions', 'Local stack only: the SQS emulator.', url()),
  eventsTopicArn: setting(
    'functions',
    'The SNS topic job and budget events are published to; none are published without it.',
    text({
      pattern: /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[\w-]{1,256}$/,
      describe: 'an SNS topic ARN',
    }),
  ),
  snsEndpoint: setting('functions', 'Local stack only: the SNS emulator.', url()),

  // The stack
  stackName: setting(
    'stack',
    "CloudFormation stack name, and the CloudWatch namespace of the stack's metrics: each stack's alarms and dashboard read only its own functions' metrics, so a staging stack beside production in one account and region counts none of production's, nor production any of its. A new name on a live deployment deploys a second, empty stack beside it, whose alarms and dashboard start without the first one's metric history: keep the first name.",
    text({ default: 'ClaudeServerless', pattern: /^[A-Za-z][A-Za-z0-9-]{0,127}$/ }),
  ),
  functionUrlAuthType: setting(
    'stack',
    'NONE: a public URL, every route but /health checks the JWT. AWS_IAM: callers sign with SigV4 as well and send the JWT in x-user-authorization.',
    choice(['NONE', 'AWS_IAM'], 'NONE'),
  ),
  corsAllowedOrigins: setting(
    'stack',
    'Browser origins the function URL answers CORS for (scheme and host, e.g. https://app.example.com), or *.',
    list({
      item: () =>
        z
          .string()
          .check(
            z.regex(
              ORIGIN_PATTERN,
              'an origin is a scheme and a host: https://app.example.com (or *)',
            ),
          ),
      describe: 'a list of origins (https://host[:port]) or *',
    }),
  ),
  chatMemoryMb: setting(
    'stack',
    // Chosen by `npm run bench` from a stream's measured RSS and CPU (README, Benchmark).
    'Chat function memory: 384 MB holds a stream with room and keeps AWS under 1% of Claude for a typical turn; Lambda gives CPU in proportion, so 1024 MB or more shortens the work before the first token.',
    int({ min: 128, max: 10_240, default: 384 }),
  ),
  chatTimeoutSeconds: setting(
    'stack',
    'Longest chat request, streaming included.',
    int({ min: 10, max: 900, default: 300 }),
  ),
  chatReservedConcurrency: setting(
    'stack',
    'Reserved concurrency of the chat function. Default: the account’s unreserved pool.',
    int({ min: 1, max: 10_000 }),
  ),
  workerMemoryMb: setting('stack', 'Worker memory.', int({ min: 128, max: 10_240, default: 1024 })),
  workerTimeoutSeconds: setting(
    'stack',
    "Worker timeout; the jobs queue's visibility timeout is six of it plus its 1 s batching window, as AWS advises. A summary taking longer to write (a large summaryMaxTokens on a slow model) is cut at it and its job retried: raise it with summaryMaxTokens.",
    int({ min: 10, max: 900, default: 120 }),
  ),
  workerMaxConcurrency: setting(
    'stack',
    'Concurrent worker invocations the SQS event source may run.',
    int({ min: 2, max: 1000, default: 10 }),
  ),
  workerReservedConcurrency: setting(
    'stack',
    'Reserved concurrency of the worker. Default: the account’s unreserved pool.',
    int({ min: 1, max: 10_000 }),
  ),
  tracing: setting(
    'stack',
    'X-Ray active tracing and Powertools Tracer on every function.',
    flag(true),
  ),
  sourceMaps: setting(
    'stack',
    'Stack traces in the logs through the source maps (Node --enable-source-maps); adds ~6 ms to a cold start.',
    flag(false),
  ),
  logRetentionDays: setting(
    'stack',
    'Log retention, a CloudWatch Logs period.',
    numberIn(LOG_RETENTION_DAYS, 30),
  ),
  logLevel: setting(
    'stack',
    'Powertools log level. `ERROR` drops the `WARN` lines several runbook queries look for (retried job attempts, overruns, events not published).',
    choice(['DEBUG', 'INFO', 'WARN', 'ERROR'], 'INFO'),
  ),
  removalPolicy: setting(
    'stack',
    "What happens to the table, the jobs queue and its dead-letter queue (with the messages on them), the secrets the stack created, the topics' KMS keys and the log groups when they leave the stack. With destroy, also set tableDeletionProtection false, or deleting the stack fails at the table.",
    choice(['retain', 'destroy'], 'retain'),
  ),
  tableDeletionProtection: setting('stack', 'DynamoDB deletion protection.', flag(true)),

  // Alarms
  alarmEmail: setting('stack', 'Alarm notifications go here (SNS e-mail subscription).', email()),
  timeToFirstTokenP99AlarmMs: setting(
    'stack',
    'Alarm when the p99 time to first token (ms) is above this in three 5-minute periods in a row.',
    decimal({ above: 0, default: 5_000 }),
  ),
  turnLatencyP99AlarmMs: setting(
    'stack',
    'Alarm when the p99 turn latency (ms) is above this in three 5-minute periods in a row.',
    decimal({ above: 0, default: 60_000 }),
  ),
  errorRateAlarmPercent: setting(
    'stack',
    'Alarm when failed model calls (could not start, or broke off) are above this percentage of calls over 5 minutes.',
    decimal({ above: 0, max: 100, default: 1 }),
  ),
  errorRateAlarmMinFailures: setting(
    'stack',
    'The error-rate alarm also needs at least this many failed model calls in the 5 minutes, so that one failure at low traffic (1 call in 10 is 10%) does not page.',
    int({ min: 1, max: 100_000, default: 3 }),
  ),
  budgetUsedAlarmPercent: setting(
    'stack',
    'Alarm when month-to-date spend is above this percentage of the global budget.',
    decimal({ above: 0, default: 80 }),
  ),
  dailyCostAlarmUsd: setting(
    'stack',
    "Alarm when one day's model spend is above this. Default: globalMonthlyBudgetUsd / 31.",
    decimal({ above: 0 }),
  ),
  jobsQueueAgeAlarmSeconds: setting(
    'stack',
    "Alarm when the oldest queued job is older than this: no worker is taking jobs. Must be more than the longest a job that only waits is counted, batchPollSeconds + 2 × (workerTimeoutSeconds + 900) + 3 (SQS ages a message from its send until its third receive, and a retry may wait 15 minutes), or synth fails; and at most a day less than the jobs queue's 4-day retention, after which SQS deletes the job unseen and the alarm could never fire. Default: that longest wait rounded up to 5 minutes, plus 5 (45 minutes with the defaults).",
    int({ min: 60, max: (JOBS_QUEUE_DEFINITION.retentionDays - 1) * SECONDS_PER_DAY }),
  ),
} satisfies Record<string, SettingDefinition>;

export type SettingKey = keyof typeof SETTINGS;

/**
 * Settings whose value is a secret, or may be one by mistake (the key itself given where its
 * secret's ARN goes): an error about one never shows its value.
 */
export const SECRET_VALUED_SETTINGS: ReadonlySet<SettingKey> = new Set<SettingKey>([
  'anthropicApiKey',
  'jwtSecret',
  'signingKey',
  'anthropicApiKeySecretArn',
  'jwtSecretArn',
  'signingKeySecretArn',
]);
type Table = typeof SETTINGS;
type ValueOf<K extends SettingKey> = z.infer<Table[K]['schema']>;

/** Settings the functions read from their environment. */
export type FunctionSettingKey = {
  [K in SettingKey]: Table[K]['readers'] extends 'functions' | 'both' ? K : never;
}[SettingKey];
/** Settings an operator gives the stack (CDK context). */
export type StackSettingKey = {
  [K in SettingKey]: Table[K]['readers'] extends 'stack' | 'both' ? K : never;
}[SettingKey];

export type FunctionSettingValues = { [K in FunctionSettingKey]: ValueOf<K> };
export type StackSettingValues = { [K in StackSettingKey]: ValueOf<K> };

/** `maxOutputTokens` → `MAX_OUTPUT_TOKENS`: the environment variable a function reads. */
export function envNameOf(key: string): string {
  return key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
}

export function settingKeys(readers: 'functions' | 'stack'): SettingKey[] {
  return (Object.keys(SETTINGS) as SettingKey[]).filter((key) => {
    const entry = SETTINGS[key].readers;
    return entry === 'both' || entry === readers;
  });
}
