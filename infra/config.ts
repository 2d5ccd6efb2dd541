import { ConfigurationError, loadSettings } from '../shared/config/load-settings.js';
import { describeIssues } from '../shared/config/setting-types.js';
import {
  envNameOf,
  SECRET_VALUED_SETTINGS,
  SETTINGS,
  type SettingKey,
  type StackSettingKey,
  type StackSettingValues,
  settingKeys,
} from '../shared/config/settings.js';
import {
  defaultJobsQueueAgeAlarmSeconds,
  longestJobWaitSeconds,
} from '../shared/jobs/queue-age.js';
import { metricsNamespaceOf } from '../shared/observability/metric-names.js';
import { functionEnvironment } from './function-settings.js';
import { nearestSetting } from './nearest-setting.js';

/**
 * The stack's configuration: CDK context (cdk.json, or `-c key=value`), validated at
 * synth against the one settings table (shared/config/settings.ts). A wrong value, an
 * unknown key, or anything the functions would reject at cold start fails synth with
 * a message naming the context key.
 */
export type InfraConfig = StackSettingValues & {
  /** Resolved: given, or the global budget spread over the longest month. */
  dailyCostAlarmUsd: number;
  /** Resolved: given, or above the longest a job that only waits is counted in the queue's age. */
  jobsQueueAgeAlarmSeconds: number;
};

export class InfraConfigError extends Error {
  override readonly name = 'InfraConfigError';
}

interface Problem {
  key: string;
  message: string;
}

/**
 * The daily-burn alarm compares one day's spend with the monthly budget spread over
 * the longest month: a pace that would exhaust the budget even then is too fast.
 */
const DAYS_IN_LONGEST_MONTH = 31;

/** CDK's own context keys have a `:`, `@` or `-` in them; ours are plain camelCase. */
const OUR_KEY = /^[a-z][A-Za-z0-9]*$/;

/**
 * @param context every context value (`app.node.getAllContext()`)
 * @throws InfraConfigError naming every invalid or unknown key and the value it had
 */
export function loadInfraConfig(context: Record<string, unknown>): InfraConfig {
  const keys = settingKeys('stack') as StackSettingKey[];
  const problems: Problem[] = unknownKeys(context, keys);
  const values: Record<string, unknown> = {};
  for (const key of keys) {
    const result = SETTINGS[key].schema.safeParse(context[key]);
    if (result.success) values[key] = result.data;
    else problems.push({ key, message: describeIssues(result.error.issues) });
  }
  if (problems.length === 0) {
    const config = values as StackSettingValues;
    problems.push(...stackProblems(config), ...functionProblems(config));
  }
  if (problems.length > 0) throw configError(problems, context);
  const config = values as StackSettingValues;
  return {
    ...config,
    dailyCostAlarmUsd:
      config.dailyCostAlarmUsd ?? config.globalMonthlyBudgetUsd / DAYS_IN_LONGEST_MONTH,
    jobsQueueAgeAlarmSeconds:
      config.jobsQueueAgeAlarmSeconds ?? defaultJobsQueueAgeAlarmSeconds(config),
  };
}

function unknownKeys(context: Record<string, unknown>, known: readonly string[]): Problem[] {
  const all = Object.keys(SETTINGS);
  return Object.keys(context)
    .filter((key) => OUR_KEY.test(key) && !known.includes(key))
    .map((key) => {
      const near = nearestSetting(key, known);
      // jwtSecret's is jwtSecretArn; anthropicApiKey's and signingKey's, <key>SecretArn.
      const secretArnKey = all.includes(`${key}Arn`) ? `${key}Arn` : `${key}SecretArn`;
      const hint = SECRET_VALUED_SETTINGS.has(key as SettingKey)
        ? `local stack only: on AWS the functions read it from the secret ${secretArnKey} names (put it there)`
        : all.includes(key)
          ? 'the functions read it from the stack, it is not configurable'
          : near
            ? `unknown setting; did you mean ${near}?`
            : 'unknown setting (see docs/configuration.md)';
      return { key, message: hint };
    });
}

/** Rules between stack settings. */
function stackProblems(config: StackSettingValues): Problem[] {
  const problems: Problem[] = [];
  if (config.authMode === 'oidc' && config.jwtSecretArn) {
    problems.push({ key: 'jwtSecretArn', message: 'authMode oidc does not use a JWT secret' });
  }
  // Every model attempt may wait modelTimeoutMs for headers; the turn must still end
  // (deadlineMarginMs early) before the function is killed.
  const worstWaitSeconds =
    (config.modelTimeoutMs * (config.modelMaxRetries + 1) + config.deadlineMarginMs) / 1000;
  for (const key of ['chatTimeoutSeconds', 'workerTimeoutSeconds'] as const) {
    if (config[key] < worstWaitSeconds) {
      problems.push({
        key,
        message: `must be at least ${worstWaitSeconds} s: modelTimeoutMs x (modelMaxRetries + 1) + deadlineMarginMs`,
      });
    }
  }
  // A job waiting out its retries, or its batch, is as old in the queue's age as a job no
  // worker takes: an alarm below that wait would page for it.
  const longestWaitSeconds = longestJobWaitSeconds(config);
  if (
    config.jobsQueueAgeAlarmSeconds !== undefined &&
    config.jobsQueueAgeAlarmSeconds <= longestWaitSeconds
  ) {
    problems.push({
      key: 'jobsQueueAgeAlarmSeconds',
      message: `must be more than ${longestWaitSeconds} s, the longest a job that only waits is counted in the queue's age: batchPollSeconds + 2 x (workerTimeoutSeconds + 900 s, the longest retry wait) + 3 x the 1 s batching window (SQS stops counting a message at its third receive)`,
    });
  }
  if (
    config.workerReservedConcurrency !== undefined &&
    config.workerReservedConcurrency < config.workerMaxConcurrency
  ) {
    problems.push({
      key: 'workerReservedConcurrency',
      message: 'must be at least workerMaxConcurrency, or the event source is throttled',
    });
  }
  return problems;
}

/**
 * The functions' own cold-start validation, run on the environment the stack gives
 * them, with stand-ins for what only exists once deployed (table name, queue URL).
 */
function functionProblems(config: StackSettingValues): Problem[] {
  const placeholderArn = (name: string) =>
    `arn:aws:secretsmanager:us-east-1:123456789012:secret:${name}-AbCdEf`;
  const env = {
    ...functionEnvironment(config),
    [envNameOf('powertoolsMetricsNamespace')]: metricsNamespaceOf(config.stackName),
    TABLE_NAME: 'table',
    JOBS_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/jobs',
    ANTHROPIC_API_KEY_SECRET_ARN:
      config.anthropicApiKeySecretArn ?? placeholderArn('anthropic-api-key'),
    SIGNING_KEY_SECRET_ARN: config.signingKeySecretArn ?? placeholderArn('signing-key'),
    ...(config.authMode === 'hs256' && {
      JWT_SECRET_ARN: config.jwtSecretArn ?? placeholderArn('jwt'),
    }),
  };
  try {
    loadSettings(env);
    return [];
  } catch (error) {
    if (!(error instanceof ConfigurationError)) throw error;
    return error.problems.map((problem) => ({ key: problem.key, message: problem.message }));
  }
}

function configError(problems: Problem[], context: Record<string, unknown>): InfraConfigError {
  const shown = new Set<string>();
  const lines = problems.map(({ key, message }) => {
    // The offending value, once per key.
    const value =
      !(key in context) || shown.has(key)
        ? ''
        : mayBeSecret(key)
          ? ' (its value is not shown: it may be a secret)'
          : ` (got ${JSON.stringify(context[key])})`;
    shown.add(key);
    return `${key}: ${message}${value}`;
  });
  return new InfraConfigError(
    `invalid configuration (cdk.json context or -c): ${lines.join('; ')}`,
  );
}

/**
 * A key whose value is, or may by mistake be, a secret: by the settings table, or for a key
 * that is none, by its name. Synth output ends up in CI logs.
 */
function mayBeSecret(key: string): boolean {
  const known = Object.keys(SETTINGS).find((name) => name.toLowerCase() === key.toLowerCase());
  if (known) return SECRET_VALUED_SETTINGS.has(known as SettingKey);
  return /secret|key|password|credential|token$/i.test(key);
}
