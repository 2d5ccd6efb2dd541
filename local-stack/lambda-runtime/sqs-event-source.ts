import { setTimeout as sleep } from 'node:timers/promises';
import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { createLambdaContext } from './context.js';
import { runInScope } from './invocation-scope.js';
import type { AnyHandler } from './invoke-handler.js';
import { toSqsRecord } from './sqs-record.js';
import { invokeErrorLine, settleWithin, taskTimedOutLine } from './timeout.js';

export interface SqsEventSourceOptions {
  /** Created with an explicit `endpoint` (see local-stack/sqs/queues.ts). */
  client: SQSClient;
  queueUrl: string;
  /** An async `(event: SQSEvent, context) => SQSBatchResponse | void`. */
  handler: AnyHandler;
  /** Records per invocation (1–10 here). */
  batchSize: number;
  /** How long to keep gathering records once the first arrived. */
  maxBatchingWindowMs: number;
  functionName: string;
  timeoutMs: number;
  /** @default 128 */
  memoryMb?: number;
  /** `eventSourceARN` of the records. @default looked up with GetQueueAttributes */
  queueArn?: string;
  /** @default console.log */
  log?: (line: string) => void;
}

export interface SqsEventSource {
  /** Stops polling at once (aborts the long poll) and waits for the batch in flight. */
  stop(): Promise<void>;
}

/**
 * A Lambda event-source mapping for one SQS queue, with ReportBatchItemFailures: long-polls,
 * invokes `handler` with a real `SQSEvent`, then deletes the records that succeeded. A handler
 * that throws or times out deletes nothing, so the records return after the visibility timeout
 * and the queue's own redrive policy moves them to the DLQ after maxReceiveCount.
 * One poller, one batch at a time (AWS scales to several concurrent pollers).
 */
export function startSqsEventSource(options: SqsEventSourceOptions): SqsEventSource {
  const log = options.log ?? ((line: string) => console.log(line));
  const polling = new AbortController();
  // Lambda polls and deletes with the function's role.
  const loop = runInScope({ functionName: options.functionName, via: 'event-source-mapping' }, () =>
    pollUntilStopped(options, polling.signal, log),
  );
  return {
    stop: async () => {
      polling.abort();
      await loop;
    },
  };
}

async function pollUntilStopped(
  options: SqsEventSourceOptions,
  signal: AbortSignal,
  log: (line: string) => void,
): Promise<void> {
  let queueArn = options.queueArn;
  while (!signal.aborted) {
    try {
      queueArn ??= await lookUpQueueArn(options.client, options.queueUrl, signal);
      const messages = await receiveBatch(options, signal);
      if (messages.length > 0) await invoke(options, queueArn, messages, log);
    } catch (error) {
      if (signal.aborted) break;
      log(
        `SQS event source for ${options.functionName}: ${(error as Error).message}; retrying in 1 s`,
      );
      await sleep(1_000, undefined, { signal }).catch(() => {});
    }
  }
}

/** One long poll, then (within the batching window) more short polls until the batch is full. */
async function receiveBatch(
  options: SqsEventSourceOptions,
  signal: AbortSignal,
): Promise<Message[]> {
  const batchSize = Math.min(Math.max(options.batchSize, 1), 10);
  const batch = await receive(options, batchSize, 20, signal);
  if (batch.length === 0) return batch;
  const windowEnds = Date.now() + options.maxBatchingWindowMs;
  while (batch.length < batchSize && Date.now() < windowEnds && !signal.aborted) {
    // Not aborted mid-call: a message received by an aborted call would stay invisible.
    const more = await receive(options, batchSize - batch.length, 0);
    batch.push(...more);
    if (more.length === 0) await sleep(Math.min(50, Math.max(windowEnds - Date.now(), 0)));
  }
  return batch;
}

async function receive(
  options: SqsEventSourceOptions,
  maxMessages: number,
  waitTimeSeconds: number,
  signal?: AbortSignal,
): Promise<Message[]> {
  const { Messages } = await options.client.send(
    new ReceiveMessageCommand({
      QueueUrl: options.queueUrl,
      MaxNumberOfMessages: maxMessages,
      WaitTimeSeconds: waitTimeSeconds,
      AttributeNames: ['All'],
      MessageSystemAttributeNames: ['All'],
      MessageAttributeNames: ['All'],
    }),
    signal ? { abortSignal: signal } : {},
  );
  return Messages ?? [];
}

async function invoke(
  options: SqsEventSourceOptions,
  queueArn: string,
  messages: Message[],
  log: (line: string) => void,
): Promise<void> {
  const awsRegion = queueArn.split(':')[3] ?? 'us-east-1';
  const event: SQSEvent = {
    Records: messages.map((message) => toSqsRecord(message, queueArn, awsRegion)),
  };
  const context = createLambdaContext({
    functionName: options.functionName,
    timeoutMs: options.timeoutMs,
    region: awsRegion,
    ...(options.memoryMb && { memoryMb: options.memoryMb }),
  });
  let response: unknown;
  try {
    const invocation = Promise.resolve(
      runInScope({ functionName: options.functionName }, () =>
        (options.handler as (...args: unknown[]) => unknown)(event, context),
      ),
    );
    const settled = await settleWithin(invocation, options.timeoutMs);
    if (settled.timedOut) {
      log(taskTimedOutLine(context.awsRequestId, options.timeoutMs));
      return;
    }
    response = settled.value;
  } catch (error) {
    log(invokeErrorLine(context.awsRequestId, error));
    return;
  }
  const failed = failedMessageIds(response, event);
  if (failed === 'all') {
    log(
      `${context.awsRequestId} batchItemFailures names an unknown or empty itemIdentifier: the whole batch failed`,
    );
    return;
  }
  await deleteMessages(
    options,
    messages.filter((message) => !failed.has(message.MessageId ?? '')),
  );
}

/**
 * The ids a ReportBatchItemFailures response lists. An empty, null or unknown identifier
 * fails the whole batch, as Lambda does:
 * https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html
 */
function failedMessageIds(response: unknown, event: SQSEvent): Set<string> | 'all' {
  const failures = (response as SQSBatchResponse | undefined)?.batchItemFailures;
  if (!Array.isArray(failures)) return new Set();
  const ids = new Set(event.Records.map((record) => record.messageId));
  const failed = new Set<string>();
  for (const failure of failures) {
    const id = (failure as { itemIdentifier?: unknown } | null)?.itemIdentifier;
    if (typeof id !== 'string' || !ids.has(id)) return 'all';
    failed.add(id);
  }
  return failed;
}

async function deleteMessages(options: SqsEventSourceOptions, messages: Message[]): Promise<void> {
  for (let start = 0; start < messages.length; start += 10) {
    const entries = messages.slice(start, start + 10).map((message, index) => ({
      Id: String(index),
      ReceiptHandle: message.ReceiptHandle,
    }));
    await options.client.send(
      new DeleteMessageBatchCommand({ QueueUrl: options.queueUrl, Entries: entries }),
    );
  }
}

async function lookUpQueueArn(
  client: SQSClient,
  queueUrl: string,
  signal: AbortSignal,
): Promise<string> {
  const { Attributes } = await client.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }),
    { abortSignal: signal },
  );
  if (!Attributes?.QueueArn) throw new Error(`No QueueArn for ${queueUrl}`);
  return Attributes.QueueArn;
}
