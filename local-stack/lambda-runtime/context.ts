import { randomBytes, randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';

export interface LambdaContextOptions {
  functionName: string;
  /** The function timeout: `getRemainingTimeInMillis()` counts down from it. */
  timeoutMs: number;
  /** @default 128 */
  memoryMb?: number;
  /** @default 'us-east-1' */
  region?: string;
  /** Account in the function ARN. @default '000000000000' */
  accountId?: string;
  /** @default a fresh UUID, as Lambda assigns per invocation */
  awsRequestId?: string;
}

/**
 * The `context` the Lambda Node.js runtime passes to a handler, for one invocation.
 * `getRemainingTimeInMillis()` is `deadline - now`, like the runtime (it can go negative
 * after the deadline, since nothing freezes the handler here).
 */
export function createLambdaContext(options: LambdaContextOptions): Context {
  const deadline = Date.now() + options.timeoutMs;
  const region = options.region ?? 'us-east-1';
  const unsupported = (name: string) => () => {
    throw new Error(`context.${name}() is not supported: return or throw from an async handler`);
  };
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: options.functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${region}:${options.accountId ?? '000000000000'}:function:${options.functionName}`,
    memoryLimitInMB: String(options.memoryMb ?? 128),
    awsRequestId: options.awsRequestId ?? randomUUID(),
    logGroupName: `/aws/lambda/${options.functionName}`,
    logStreamName: logStreamName(new Date()),
    getRemainingTimeInMillis: () => deadline - Date.now(),
    done: unsupported('done'),
    fail: unsupported('fail'),
    succeed: unsupported('succeed'),
  };
}

/** `2024/05/01/[$LATEST]<32 hex>`, the shape of a Lambda log stream name. */
function logStreamName(date: Date): string {
  const day = date.toISOString().slice(0, 10).replaceAll('-', '/');
  return `${day}/[$LATEST]${randomBytes(16).toString('hex')}`;
}
