import { readFileSync } from 'node:fs';
import { MAINTENANCE_FUNCTION } from '../shared/config/maintenance-function.js';
import { describeIssues } from '../shared/config/setting-types.js';
import { SETTINGS } from '../shared/config/settings.js';

/** A function's timeout and memory, as the stack deploys it. */
export interface DeployedFunction {
  timeoutMs: number;
  /** What the handler's context reports (`memoryLimitInMB`, Powertools' `function_memory_size`). */
  memoryMb: number;
}

export interface DeployedFunctions {
  chat: DeployedFunction;
  worker: DeployedFunction;
  maintenance: DeployedFunction;
}

type SizingSetting =
  | 'chatTimeoutSeconds'
  | 'chatMemoryMb'
  | 'workerTimeoutSeconds'
  | 'workerMemoryMb';

/**
 * The functions' timeouts and memory the stack would deploy — cdk.json's context, or its
 * default — so that deadlines, what runs out of time, and what a handler's context says behave
 * alike here and on AWS. The shell's `CHAT_TIMEOUT_SECONDS` and `WORKER_TIMEOUT_SECONDS`
 * override the timeouts for the local stack alone.
 *
 * @param context cdk.json's `context`
 * @throws Error naming the variable (or cdk.json key) on a value the stack's synth refuses as well
 */
export function deployedFunctions(
  context: Record<string, unknown> = cdkContext(),
  env: Record<string, string | undefined> = process.env,
): DeployedFunctions {
  const deployed = (key: SizingSetting, envName?: string) => {
    const fromShell = envName !== undefined && env[envName] !== undefined;
    const value = fromShell ? env[envName] : context[key];
    const result = SETTINGS[key].schema.safeParse(value);
    if (result.success) return result.data as number;
    const source = fromShell ? envName : `cdk.json's ${key}`;
    const problem = describeIssues(result.error.issues);
    throw new Error(`${source}: ${problem} (got ${JSON.stringify(value)})`);
  };
  return {
    chat: {
      timeoutMs: deployed('chatTimeoutSeconds', 'CHAT_TIMEOUT_SECONDS') * 1000,
      memoryMb: deployed('chatMemoryMb'),
    },
    worker: {
      timeoutMs: deployed('workerTimeoutSeconds', 'WORKER_TIMEOUT_SECONDS') * 1000,
      memoryMb: deployed('workerMemoryMb'),
    },
    maintenance: {
      timeoutMs: MAINTENANCE_FUNCTION.timeoutSeconds * 1000,
      memoryMb: MAINTENANCE_FUNCTION.memoryMb,
    },
  };
}

function cdkContext(): Record<string, unknown> {
  return JSON.parse(readFileSync('cdk.json', 'utf8')).context ?? {};
}
