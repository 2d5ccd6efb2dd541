/**
 * npm run enqueue -- <file> [userId]: sends a document to the running local stack
 * (POST /v1/jobs) and shows the job's progress until it finishes.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { LOCAL_STACK } from './dev-settings.js';
import { signDevToken } from './dev-token.js';

const POLL_MS = 500;
const GIVE_UP_MS = 15 * 60_000;

/** What GET /v1/jobs/{id} answers (README: API). */
interface JobView {
  jobId: string;
  status: 'queued' | 'running' | 'succeeded' | 'failed';
  result?: { summary: string };
  error?: { type: string; message: string };
  usage?: { inputTokens: number; outputTokens: number };
  costUsd?: number;
}

const [file, userId = 'dev-user'] = process.argv.slice(2);
if (!file) {
  console.error('usage: npm run enqueue -- <file> [userId]');
  process.exit(2);
}

let functionUrl: string;
try {
  const outputs = JSON.parse(readFileSync(resolve(LOCAL_STACK.stateDir, 'outputs.json'), 'utf8'));
  functionUrl = String(outputs.functionUrl).replace(/\/$/, '');
} catch {
  console.error('The local stack is not running (no .local/outputs.json): start it with npm start');
  process.exit(1);
}

const headers = {
  authorization: `Bearer ${await signDevToken(userId, { secret: process.env.JWT_SECRET })}`,
  'content-type': 'application/json',
};
const created = await fetch(`${functionUrl}/v1/jobs`, {
  method: 'POST',
  headers,
  body: JSON.stringify({ type: 'summarize', text: readFileSync(file, 'utf8') }),
}).catch(() => undefined);
if (!created) {
  console.error(`Could not reach ${functionUrl}: is npm start still running?`);
  process.exit(1);
}
const accepted = (await created.json()) as JobView & { error?: { message?: string } };
if (created.status !== 202) {
  console.error(
    `Rejected (${created.status}): ${accepted.error?.message ?? JSON.stringify(accepted)}`,
  );
  process.exit(1);
}
console.log(`job ${accepted.jobId}: ${accepted.status}`);

let last = accepted.status;
const started = Date.now();
for (;;) {
  await new Promise((done) => setTimeout(done, POLL_MS));
  const job = (await (
    await fetch(`${functionUrl}/v1/jobs/${accepted.jobId}`, { headers })
  ).json()) as JobView;
  if (job.status !== last) {
    last = job.status;
    console.log(
      `job ${accepted.jobId}: ${job.status} (${((Date.now() - started) / 1000).toFixed(1)} s)`,
    );
  }
  if (job.status === 'succeeded') {
    console.log(
      `\n${job.result?.summary}\n\ncost: $${job.costUsd} (${job.usage?.inputTokens} in, ${job.usage?.outputTokens} out)`,
    );
    process.exit(0);
  }
  if (job.status === 'failed') {
    console.error(`failed: ${job.error?.type}: ${job.error?.message}`);
    process.exit(1);
  }
  if (Date.now() - started > GIVE_UP_MS) {
    console.error('still not finished after 15 minutes; check the worker logs of npm start');
    process.exit(1);
  }
}
