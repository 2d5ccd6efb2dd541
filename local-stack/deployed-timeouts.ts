import { readFileSync } from 'node:fs';
import { describeIssues } from '../shared/config/setting-types.js';
import { SETTINGS } from '../shared/config/settings.js';

/** The functions' timeouts, in milliseconds, as the stack deploys them. */
export interface DeployedTimeoutsMs {
  chat: number;
  worker: number;
}

/**
 * The chat and worker timeouts the stack would deploy — cdk.json's context, or its default —
 * so that deadlines, and what runs out of time, behave alike here and on AWS. The shell's
 * `CHAT_TIMEOUT_SECONDS` and `WORKER_TIMEOUT_SECONDS` override them for the local stack alone.
 *
 * @param context cdk.json's `context`
 * @throws Error naming the variable (or cdk.json key) on a value the stack's synth refuses as well
 */
export function deployedTimeoutsMs(
  context: Record<string, unknown> = cdkContext(),
  env: Record<string, string | undefined> = process.env,
): DeployedTimeoutsMs {
  const seconds = (key: 'chatTimeoutSeconds' | 'workerTimeoutSeconds', envName: string) => {
    const fromShell = env[envName] !== undefined;
    const value = fromShell ? env[envName] : context[key];
    const result = SETTINGS[key].schema.safeParse(value);
    if (result.success) return result.data;
    const source = fromShell ? envName : `cdk.json's ${key}`;
    const problem = describeIssues(result.error.issues);
    throw new Error(`${source}: ${problem} (got ${JSON.stringify(value)})`);
  };
  return {
    chat: seconds('chatTimeoutSeconds', 'CHAT_TIMEOUT_SECONDS') * 1000,
    worker: seconds('workerTimeoutSeconds', 'WORKER_TIMEOUT_SECONDS') * 1000,
  };
}

function cdkContext(): Record<string, unknown> {
  return JSON.parse(readFileSync('cdk.json', 'utf8')).context ?? {};
}
