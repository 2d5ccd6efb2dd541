import { randomUUID } from 'node:crypto';
import type { Context, ScheduledEvent } from 'aws-lambda';
import { createLambdaContext } from './context.js';
import { runInScope } from './invocation-scope.js';
import { invokeErrorLine, settleWithin, taskTimedOutLine } from './timeout.js';

export interface ScheduleOptions {
  /** The function's handler: `(event, context)`. */
  handler: (event: ScheduledEvent, context: Context) => Promise<unknown>;
  functionName: string;
  /** How often it runs; EventBridge's `rate(…)`. */
  everyMs: number;
  timeoutMs: number;
  /** @default 128 */
  memoryMb?: number;
  region?: string;
  log?: (line: string) => void;
}

export interface Schedule {
  /** Invokes the function now, as the next tick would; resolves when it returns. */
  runNow(): Promise<unknown>;
  /** Stops the ticks and waits for the invocation under way. */
  stop(): Promise<void>;
}

/**
 * An EventBridge schedule rule targeting a function: every `everyMs`, one invocation
 * with a `Scheduled Event`, never two at once (a tick that finds one running is
 * skipped, as a slow function would see on AWS only with concurrency 1). Errors are
 * logged as the runtime does; the rule has no retries.
 */
export function startSchedule(options: ScheduleOptions): Schedule {
  const region = options.region ?? 'us-east-1';
  const log = options.log ?? ((line: string) => console.log(line));
  let running: Promise<unknown> | undefined;

  const invoke = async (): Promise<unknown> => {
    const requestId = randomUUID();
    const event: ScheduledEvent = {
      version: '0',
      id: randomUUID(),
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      account: '000000000000',
      time: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
      region,
      resources: [`arn:aws:events:${region}:000000000000:rule/${options.functionName}-schedule`],
      detail: {},
    };
    const context = createLambdaContext({
      functionName: options.functionName,
      timeoutMs: options.timeoutMs,
      awsRequestId: requestId,
      region,
      ...(options.memoryMb && { memoryMb: options.memoryMb }),
    });
    try {
      const settled = await settleWithin(
        runInScope({ functionName: options.functionName }, () => options.handler(event, context)),
        options.timeoutMs,
      );
      if (settled.timedOut) log(taskTimedOutLine(requestId, options.timeoutMs));
      return settled.timedOut ? undefined : settled.value;
    } catch (error) {
      log(invokeErrorLine(requestId, error));
      return undefined;
    }
  };
  const runNow = () => {
    running ??= invoke().finally(() => {
      running = undefined;
    });
    return running;
  };
  const timer = setInterval(() => void runNow(), options.everyMs);
  return {
    runNow,
    stop: async () => {
      clearInterval(timer);
      await running;
    },
  };
}
