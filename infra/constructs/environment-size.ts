import { Stack } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type { IValidation } from 'constructs';
import { envNameOf, settingKeys } from '../../shared/config/settings.js';

/** Lambda refuses a function whose environment variables take more than 4 KB in all. */
const LAMBDA_ENVIRONMENT_LIMIT_BYTES = 4096;

/**
 * What a value known only once deployed (a table name, a queue URL, a secret ARN) is counted
 * as: longer than any of ours (a queue URL in a long region name is about 110 characters).
 */
const DEPLOY_TIME_VALUE_BYTES = 128;

/** The configuration's name for a variable that holds a setting: what the operator shortens. */
const SETTING_OF_VARIABLE = new Map<string, string>(
  settingKeys('functions').map((key) => [envNameOf(key), key]),
);

/**
 * Fails synth when a function's environment cannot fit Lambda's 4 KB, rather than the deploy
 * failing (and rolling back) on it: long lists and price overrides in the configuration are
 * what fill it. Counts the variables as JSON, names, quotes and separators included.
 */
export class EnvironmentSizeLimit implements IValidation {
  constructor(private readonly fn: lambda.Function) {}

  validate(): string[] {
    const cfn = this.fn.node.defaultChild as lambda.CfnFunction;
    const resolved = Stack.of(this.fn).resolve(cfn.environment) as
      | { variables?: Record<string, unknown> }
      | undefined;
    const variables = Object.entries(resolved?.variables ?? {});
    const sizes = variables.map(([name, value]) => ({
      name,
      bytes:
        Buffer.byteLength(JSON.stringify(name)) +
        1 +
        (typeof value === 'string'
          ? Buffer.byteLength(JSON.stringify(value))
          : DEPLOY_TIME_VALUE_BYTES),
    }));
    const total = 2 + Math.max(0, sizes.length - 1) + sizes.reduce((sum, s) => sum + s.bytes, 0);
    if (total <= LAMBDA_ENVIRONMENT_LIMIT_BYTES) return [];
    const largest = sizes
      .sort((a, b) => b.bytes - a.bytes)
      .slice(0, 3)
      .map(({ name, bytes }) => `${SETTING_OF_VARIABLE.get(name) ?? name} (${bytes} bytes)`)
      .join(', ');
    return [
      `its environment variables take about ${total} bytes, over Lambda's ${LAMBDA_ENVIRONMENT_LIMIT_BYTES}: shorten the longest settings (${largest})`,
    ];
  }
}
