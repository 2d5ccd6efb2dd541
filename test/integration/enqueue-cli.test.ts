import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  type EnqueueIo,
  type LocalStackOutputs,
  runEnqueue,
} from '../../local-stack/enqueue-command.js';
import { startTestStack, type TestStack } from './support/test-stack.js';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** What one run printed, and the requests it made to the function URL. */
interface Run {
  code: number;
  out: string[];
  err: string;
  requests: string[];
}

describe('npm run enqueue', () => {
  let stack: TestStack;
  let outputs: LocalStackOutputs;
  const dir = mkdtempSync(join(tmpdir(), 'enqueue-'));
  const file = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };

  beforeAll(async () => {
    stack = await startTestStack({ worker: true });
    outputs = {
      functionUrl: `${stack.url}/`,
      eventsTopicArn: stack.eventsTopicArn,
      snsEndpoint: inject('sqsEndpoint'),
    };
  });
  afterAll(() => stack?.close());

  async function enqueue(args: string[], io: Partial<EnqueueIo> = {}): Promise<Run> {
    const out: string[] = [];
    const err: string[] = [];
    const requests: string[] = [];
    const code = await runEnqueue(args, {
      outputs,
      token: (userId) => stack.token(userId),
      fetch: (input, init) => {
        requests.push(`${init?.method ?? 'GET'} ${new URL(String(input)).pathname}`);
        return fetch(input, init);
      },
      print: (text) => out.push(text),
      printError: (text) => err.push(text),
      giveUpMs: 60_000,
      ...io,
    });
    return { code, out, err: err.join('\n'), requests };
  }

  it('follows a long document by its events: each part, then the summary and its cost', async () => {
    let text = '';
    for (let i = 0; text.length < 200_000; i++) {
      text += `Paragraph ${i}. The audit found the ledgers in order and the stock counted twice. `;
    }

    const run = await enqueue([file('report.txt', text), 'enqueuer']);

    expect(run.err, run.out.join('\n')).toBe('');
    expect(run.code).toBe(0);
    const jobId = /^job (\S+): queued$/.exec(run.out[0] ?? '')?.[1];
    expect(jobId).toBeDefined();
    // 200,000 bytes ≈ 50,000 estimated tokens: three parts of at most 20,000.
    const progress = run.out.filter((line) => /\d+ of \d+ parts done/.test(line));
    expect(progress.at(-1), run.out.join('\n')).toMatch(/3 of 3 parts done/);
    // Events come in any order; what is shown never goes back.
    const partsDone = progress.map((line) => Number(/(\d+) of/.exec(line)?.[1]));
    expect(partsDone).toEqual([...partsDone].sort((a, b) => a - b));
    expect(run.out).toContainEqual(expect.stringMatching(`^job ${jobId}: succeeded`));
    expect(run.out.join('\n')).toMatch(/cost: \$0\.\d+ \(\d+ in, \d+ out\)/);
    // The job is read until it is seen running or its first event comes, no more; a part done
    // says it runs (a running line after it would be stale).
    const running = run.out.findIndex((line) => / running \(/.test(line));
    expect(running < run.out.indexOf(progress[0]!), run.out.join('\n')).toBe(true);
    expect(run.requests[0]).toBe('POST /v1/jobs');
    expect(new Set(run.requests.slice(1))).toEqual(new Set([`GET /v1/jobs/${jobId}`]));
    expect(run.requests.length).toBeLessThan(6);
  });

  it('says a one-part job is running while Claude answers it, then its end (it said nothing until the end)', async () => {
    const path = file('one-part.txt', 'A memo answered slowly. [[local-claude: ttft=3000]]');

    const run = await enqueue([path, 'one-parter'], { startPollMs: 200 });

    expect(run.err).toBe('');
    expect(run.code).toBe(0);
    const jobId = /^job (\S+): queued$/.exec(run.out[0] ?? '')?.[1];
    expect(run.out.slice(0, 3), run.out.join('\n')).toEqual([
      `job ${jobId}: queued`,
      expect.stringMatching(`^job ${jobId}: running \\((0|1)\\.\\d s\\)$`),
      expect.stringMatching(`^job ${jobId}: succeeded \\([3-9]\\.\\d s\\)$`),
    ]);
  });

  it('sends a batch job through the Message Batches API with --batch, and follows it to its end', async () => {
    const path = file('batch.txt', 'A memo for the half-price path: ship the order on Friday.');

    const run = await enqueue([path, 'batcher', '--batch', '--job-id', 'memo-2026:batch'], {
      startPollMs: 200,
    });

    expect(run.err).toBe('');
    expect(run.code).toBe(0);
    expect(run.out[0]).toBe('job memo-2026:batch: queued (batch, half price)');
    expect(run.out[1]).toMatch(/^job memo-2026:batch: running \(/);
    expect(run.out).toContainEqual(expect.stringMatching(/^job memo-2026:batch: succeeded/));
    expect(stack.claude.requests.some((r) => r.path === '/v1/messages/batches')).toBe(true);
  });

  it('answers a document sent again with the job that already ended', async () => {
    const path = file('memo.txt', 'A short memo about the quarterly offsite, sent twice.');
    const first = await enqueue([path, 'enqueuer']);
    expect(first.code).toBe(0);

    const again = await enqueue([path, 'enqueuer']);

    expect(again.code).toBe(0);
    expect(again.out[0]).toMatch(/: succeeded$/);
    expect(again.requests).toEqual(['POST /v1/jobs', expect.stringMatching(/^GET \/v1\/jobs\//)]);
  });

  it('answers a document sent again with its dead-lettered job, waiting for nothing', async () => {
    const text = `A memo the model refuses. [[local-claude: fault=error-before status=400 key=dl-${Date.now()}]]`;
    const path = file('refused.txt', text);
    const first = await enqueue([path, 'enqueuer']);
    expect(first.out).toContainEqual(expect.stringMatching(/: dead_lettered/));

    const again = await enqueue([path, 'enqueuer'], { giveUpMs: 10_000 });

    expect(again.code).toBe(1);
    expect(again.out[0]).toMatch(/: dead_lettered$/);
    expect(again.err).toMatch(/^dead_lettered: invalid_request_error/);
    expect(again.requests).toEqual(['POST /v1/jobs', expect.stringMatching(/^GET \/v1\/jobs\//)]);
  });

  it('says what is wrong with a missing file, a directory or an empty one, sending nothing', async () => {
    const cases: Array<[string, RegExp]> = [
      [join(dir, 'nope.txt'), /^No such file: .*nope\.txt/],
      [dir, /^Not a file: /],
      [file('empty.txt', '  \n'), /^The file is empty: /],
    ];
    for (const [path, message] of cases) {
      const run = await enqueue([path]);
      expect(run.code).toBe(2);
      expect(run.err).toMatch(message);
      expect(run.requests).toEqual([]);
    }
    const none = await enqueue([]);
    expect(none.code).toBe(2);
    expect(none.err).toMatch(/usage: npm run enqueue -- <file>/);
  });

  it('says the local stack is not running when it wrote no outputs, or they are stale', async () => {
    const path = file('doc.txt', 'Some text.');

    const noOutputs = await enqueue([path], { outputs: undefined });
    expect(noOutputs.code).toBe(1);
    expect(noOutputs.err).toMatch(/not running .*start it with npm start/);

    const stale = await enqueue([path], {
      outputs: { ...outputs, snsEndpoint: 'http://127.0.0.1:9' },
    });
    expect(stale.code).toBe(1);
    expect(stale.err).toMatch(/Could not reach the events topic .* is npm start still running/);
    expect(stale.requests).toEqual([]);
  });
});

describe('npm run enqueue on a local stack that checks iss and aud', () => {
  const checks = { JWT_ISSUER: 'https://issuer.example', JWT_AUDIENCE: 'claude-api' };
  let stack: TestStack;
  let cwd: string;
  beforeAll(async () => {
    stack = await startTestStack({ worker: true, env: checks });
    // Where `npm start` would have said the stack is: npm run enqueue reads it there.
    cwd = mkdtempSync(join(tmpdir(), 'enqueue-cli-'));
    mkdirSync(join(cwd, '.local'));
    writeFileSync(
      join(cwd, '.local', 'outputs.json'),
      JSON.stringify({
        functionUrl: `${stack.url}/`,
        eventsTopicArn: stack.eventsTopicArn,
        snsEndpoint: inject('sqsEndpoint'),
      }),
    );
    writeFileSync(join(cwd, 'notes.txt'), 'Notes of a meeting: the budget was agreed.');
  });
  afterAll(async () => {
    await stack?.close();
    rmSync(cwd, { recursive: true, force: true });
  });

  it('signs its token with JWT_ISSUER and JWT_AUDIENCE from the shell, as npm run token does', async () => {
    const { stdout } = await promisify(execFile)(
      join(REPO_ROOT, 'node_modules', '.bin', 'tsx'),
      [join(REPO_ROOT, 'local-stack', 'enqueue.ts'), 'notes.txt'],
      { cwd, env: { ...process.env, ...checks } },
    );
    expect(stdout).toMatch(/^job \S+: succeeded/m);
  });
});
