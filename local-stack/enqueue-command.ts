import { randomUUID } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { JobEndedEvent, JobProgressEvent } from '../shared/events/producer-events.js';
import type { JobStatus } from '../shared/ports/job-store.js';
import { localStateDir } from './dev-settings.js';
import { subscribeQueue, type TopicSubscriber } from './sns/topics.js';
import type { StackOutputs } from './stack-outputs.js';

/** What the outputs of a running `npm start` say, as far as this command needs. */
export type LocalStackOutputs = Pick<
  StackOutputs,
  'functionUrl' | 'eventsTopicArn' | 'snsEndpoint'
>;

/** Where the command's requests go and its output comes out. */
export interface EnqueueIo {
  /** Undefined when the local stack has written none (it is not running). */
  outputs: LocalStackOutputs | undefined;
  token: (userId: string) => Promise<string>;
  /** @default globalThis.fetch */
  fetch?: typeof fetch;
  print: (text: string) => void;
  printError: (text: string) => void;
  /** Aborts the wait (Ctrl-C): the subscription is removed all the same. */
  signal?: AbortSignal;
  /** @default 15 minutes */
  giveUpMs?: number;
  /** How often the job is read until it is seen running. @default 1 second */
  startPollMs?: number;
}

/** 0: the job succeeded; 1: it did not, or the stack could not be reached; 2: bad arguments. */
export type EnqueueExitCode = 0 | 1 | 2;

const USAGE = 'usage: npm run enqueue -- <file> [userId] [--batch] [--job-id ID]';
const GIVE_UP_MS = 15 * 60_000;
const START_POLL_MS = 1_000;

/** The job statuses GET /v1/jobs/{id} and POST /v1/jobs answer with. */
interface JobView {
  jobId: string;
  status: JobStatus;
  result?: { summary: string };
  error?: { type: string; message: string };
  usage?: { inputTokens: number; outputTokens: number };
  costUsd?: number;
}

/**
 * `npm run enqueue`: sends a document to the running local stack (POST /v1/jobs) and follows
 * the job as a producer would, by its events (a queue of its own subscribed to the events
 * topic, filtered on the user): progress as parts are summarized, then the end. No event
 * says a job started (a one-part job publishes none until its end): the job is read until
 * it is seen running, or its first event comes.
 */
export async function runEnqueue(args: string[], io: EnqueueIo): Promise<EnqueueExitCode> {
  const parsed = parseEnqueueArgs(args);
  if (typeof parsed === 'string') {
    io.printError(`${parsed}\n${USAGE}`);
    return 2;
  }
  const text = await readDocument(parsed.file);
  if ('error' in text) {
    io.printError(text.error);
    return 2;
  }
  if (!io.outputs) {
    io.printError(
      `The local stack is not running (no ${join(localStateDir(), 'outputs.json')}): start it with npm start`,
    );
    return 1;
  }
  const { functionUrl, eventsTopicArn, snsEndpoint } = io.outputs;
  const baseUrl = functionUrl.replace(/\/$/, '');
  const fetch = io.fetch ?? globalThis.fetch;
  const clients = {
    sns: new SNSClient({ endpoint: snsEndpoint }),
    sqs: new SQSClient({ endpoint: snsEndpoint }),
  };
  let events: TopicSubscriber;
  try {
    // Subscribed before the job is sent, so its first event cannot be missed.
    events = await subscribeQueue(clients, eventsTopicArn, {
      queueName: `enqueue-${randomUUID().slice(0, 8)}`,
      filterPolicy: { userId: [parsed.userId] },
    });
  } catch {
    io.printError(
      `Could not reach the events topic at ${snsEndpoint}: is npm start still running?`,
    );
    return 1;
  }
  try {
    const headers = {
      authorization: `Bearer ${await io.token(parsed.userId)}`,
      'content-type': 'application/json',
    };
    const created = await fetch(`${baseUrl}/v1/jobs`, {
      method: 'POST',
      headers,
      body: JSON.stringify({
        type: 'summarize',
        text: text.value,
        ...(parsed.jobId && { jobId: parsed.jobId }),
        ...(parsed.batch && { priority: 'batch' }),
      }),
    }).catch(() => undefined);
    if (!created) {
      io.printError(`Could not reach ${baseUrl}: is npm start still running?`);
      return 1;
    }
    const accepted = (await created.json()) as JobView & { error?: { message?: string } };
    if (created.status !== 202) {
      io.printError(
        `Rejected (${created.status}): ${accepted.error?.message ?? JSON.stringify(accepted)}`,
      );
      return 1;
    }
    io.print(
      `job ${accepted.jobId}: ${accepted.status}${parsed.batch ? ' (batch, half price)' : ''}`,
    );
    if (isEnded(accepted.status)) {
      // The same document (or id) again: the job ended before, and its event with it.
      const job = (await (
        await fetch(`${baseUrl}/v1/jobs/${encodeURIComponent(accepted.jobId)}`, { headers })
      ).json()) as JobView;
      return printEnd(io, job.status, job);
    }
    const readStatus = async () => {
      const response = await fetch(`${baseUrl}/v1/jobs/${encodeURIComponent(accepted.jobId)}`, {
        headers,
      });
      return response.ok ? ((await response.json()) as JobView).status : undefined;
    };
    const ended = await followJob(events, accepted.jobId, io, readStatus);
    if (!ended) return 1;
    return printEnd(io, ended.status, {
      ...(ended.result && 'summary' in ended.result && { result: ended.result }),
      ...(ended.error && { error: ended.error }),
      ...(ended.usage && { usage: ended.usage }),
      ...(ended.costUsd !== undefined && { costUsd: ended.costUsd }),
    });
  } finally {
    await events.close();
    clients.sns.destroy();
    clients.sqs.destroy();
  }
}

interface EnqueueArgs {
  file: string;
  userId: string;
  batch: boolean;
  jobId?: string;
}

function parseEnqueueArgs(args: string[]): EnqueueArgs | string {
  try {
    const { positionals, values } = parseArgs({
      args,
      allowPositionals: true,
      options: { batch: { type: 'boolean' }, 'job-id': { type: 'string' } },
    });
    const [file, userId = 'dev-user', ...extra] = positionals;
    if (!file) return 'No file given.';
    if (extra.length > 0) return `Unexpected argument: ${extra[0]}`;
    return {
      file,
      userId,
      batch: values.batch ?? false,
      ...(values['job-id'] !== undefined && { jobId: values['job-id'] }),
    };
  } catch (error) {
    return (error as Error).message;
  }
}

async function readDocument(file: string): Promise<{ value: string } | { error: string }> {
  const info = await stat(file).catch(() => undefined);
  if (!info) return { error: `No such file: ${file}` };
  if (!info.isFile()) return { error: `Not a file: ${file}` };
  const value = await readFile(file, 'utf8');
  if (value.trim() === '') return { error: `The file is empty: ${file}` };
  return { value };
}

/** Prints the job's progress events until its end; undefined when it did not end in time. */
async function followJob(
  events: TopicSubscriber,
  jobId: string,
  io: EnqueueIo,
  readStatus: () => Promise<JobStatus | undefined>,
): Promise<JobEndedEvent | undefined> {
  const started = Date.now();
  const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)} s`;
  // SNS and SQS keep no order: a progress event may come after a later one, and is not shown.
  let shown = { round: 0, partsDone: 0 };
  const isNewer = ({ round, partsDone }: JobProgressEvent['progress']) =>
    round > shown.round || (round === shown.round && partsDone > shown.partsDone);
  const heard = new AbortController();
  const seenRunning = whenRunning(readStatus, io.startPollMs ?? START_POLL_MS, heard.signal).then(
    (running) => {
      if (running) io.print(`job ${jobId}: running (${elapsed()})`);
    },
  );
  try {
    const { event } = await events.waitFor<JobEndedEvent | JobProgressEvent>(
      (event) => {
        if (event.jobId !== jobId) return false;
        heard.abort();
        if (event.type === 'job.progress' && isNewer(event.progress)) {
          shown = event.progress;
          const { round, partsDone, partsTotal } = event.progress;
          const what = round === 1 ? 'parts' : `round ${round} summaries`;
          io.print(`job ${jobId}: ${partsDone} of ${partsTotal} ${what} done (${elapsed()})`);
        }
        return event.type === 'job.ended';
      },
      { timeoutMs: io.giveUpMs ?? GIVE_UP_MS, ...(io.signal && { signal: io.signal }) },
    );
    heard.abort();
    await seenRunning;
    io.print(`job ${jobId}: ${(event as JobEndedEvent).status} (${elapsed()})`);
    return event as JobEndedEvent;
  } catch (error) {
    heard.abort();
    await seenRunning;
    if (io.signal?.aborted) {
      io.printError(`Stopped waiting; the job goes on (GET /v1/jobs/${jobId}).`);
    } else {
      io.printError(
        `No end after ${Math.round((io.giveUpMs ?? GIVE_UP_MS) / 1000)} s (${(error as Error).message}); check the worker logs of npm start`,
      );
    }
    return undefined;
  }
}

/**
 * Reads the job every `everyMs` until it is `running` (true), or it ended or `stop` is
 * aborted first (false: its events say the rest). A read that fails is made again.
 */
async function whenRunning(
  readStatus: () => Promise<JobStatus | undefined>,
  everyMs: number,
  stop: AbortSignal,
): Promise<boolean> {
  while (!stop.aborted) {
    const status = await readStatus().catch(() => undefined);
    if (stop.aborted) return false;
    if (status === 'running') return true;
    if (status && isEnded(status)) return false;
    await sleep(everyMs, undefined, { signal: stop }).catch(() => {});
  }
  return false;
}

function isEnded(status: JobView['status']): boolean {
  return status !== 'queued' && status !== 'running';
}

function printEnd(
  io: EnqueueIo,
  status: string,
  job: Pick<JobView, 'result' | 'error' | 'usage' | 'costUsd'>,
): EnqueueExitCode {
  if (status !== 'succeeded') {
    io.printError(`${status}${job.error ? `: ${job.error.type}: ${job.error.message}` : ''}`);
    return 1;
  }
  io.print(
    `\n${job.result?.summary ?? '(the summary is too long for an event: GET /v1/jobs/{id})'}\n\ncost: $${job.costUsd} (${job.usage?.inputTokens} in, ${job.usage?.outputTokens} out)`,
  );
  return 0;
}
