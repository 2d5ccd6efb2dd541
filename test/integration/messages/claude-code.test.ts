import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RecordedRequest } from '../../../local-stack/local-claude/types.js';
import { DynamoUsageLedger } from '../../../shared/adapters/dynamodb/usage-ledger.js';
import { DynamoUsageRecords } from '../../../shared/adapters/dynamodb/usage-records.js';
import { monthOf } from '../../../shared/domain/budget.js';
import { usdToNano } from '../../../shared/domain/pricing/model-price.js';
import { createApiKey } from '../support/api-keys.js';
import { startTestStack, type TestStack } from '../support/test-stack.js';

/** The `claude` binary of the pinned `@anthropic-ai/claude-code` devDependency. */
const CLAUDE = join(import.meta.dirname, '../../../node_modules/.bin/claude');
const RUN_TIMEOUT_MS = 30_000;
const month = () => monthOf(Date.now());

/** The `--output-format json` result of `claude -p`, the fields read here. */
interface ClaudeCodeResult {
  type: string;
  subtype: string;
  is_error: boolean;
  num_turns: number;
  result: string;
  total_cost_usd: number;
  usage: { output_tokens: number };
}

interface Run {
  exitCode: number | null;
  stdout: string;
  stderr: string;
}

interface Body {
  thinking?: unknown;
  messages: Array<{ role: string; content: string | Array<Record<string, unknown>> }>;
}

/**
 * The real Claude Code, in print mode, pointed at the gateway as the README tells users to:
 * a base URL and a project key. Its own HOME and working directory, and nothing of this
 * process's environment but PATH, so no user setting or credential leaks in.
 */
function runClaudeCode(args: string[], options: { cwd: string; env: Record<string, string> }) {
  return new Promise<Run>((resolve, reject) => {
    const child = spawn(CLAUDE, args, {
      cwd: options.cwd,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: RUN_TIMEOUT_MS,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (exitCode) => resolve({ exitCode, stdout, stderr }));
  });
}

const toolUses = (body: Body) =>
  body.messages.flatMap((message) =>
    message.role === 'assistant' && Array.isArray(message.content)
      ? message.content.filter((block) => block.type === 'tool_use')
      : [],
  );

const toolResults = (body: Body) =>
  body.messages.flatMap((message) =>
    message.role === 'user' && Array.isArray(message.content)
      ? message.content.filter((block) => block.type === 'tool_result')
      : [],
  );

/**
 * Claude Code 2.1.328 (the pinned devDependency) through /v1/messages, as users run it:
 * its tools, system prompt with cache breakpoints, betas and unshown adaptive thinking.
 */
describe('Claude Code through /v1/messages', () => {
  let stack: TestStack;
  let ledger: DynamoUsageLedger;
  let scratch: string;

  beforeAll(async () => {
    stack = await startTestStack({
      env: { ALLOWED_MODELS: 'claude-opus-4-8' },
      claude: { timeToFirstTokenMs: 0, tokensPerSecond: 0 },
    });
    ledger = new DynamoUsageLedger(stack.documentClient, stack.tableName, 1000);
    scratch = await mkdtemp(join(tmpdir(), 'claude-code-test-'));
  });
  afterAll(async () => {
    await stack?.close();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  it.each([
    { model: 'claude-sonnet-4-6', principal: 'coder-sonnet' },
    { model: 'claude-opus-4-8', principal: 'coder-opus' },
  ])(
    'runs a tool round trip on $model, billed exactly what Claude Code reports',
    async ({ model, principal }) => {
      const { id, key } = await createApiKey(stack, { principal, monthlyBudgetUsd: 5 });
      const home = await mkdtemp(join(scratch, 'home-'));
      const work = await mkdtemp(join(scratch, 'work-'));
      const seen = stack.claude.requests.length;

      // The directive makes the local Claude call Write; Claude Code writes the file itself
      // and sends the tool result back in a second call, which the local Claude answers.
      const run = await runClaudeCode(
        [
          '-p',
          'Save a note [[local-claude: reply=tool tool=Write tokens=5]]',
          '--output-format',
          'json',
          '--model',
          model,
          '--allowedTools',
          'Write',
        ],
        {
          cwd: work,
          env: {
            HOME: home,
            ANTHROPIC_BASE_URL: stack.url,
            ANTHROPIC_API_KEY: key,
            // No auto-update, telemetry or error reporting: nothing but the base URL is called.
            CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
            DISABLE_AUTOUPDATER: '1',
            DISABLE_TELEMETRY: '1',
          },
        },
      );

      expect(run.exitCode, `${run.stdout}\n${run.stderr}`).toBe(0);
      const result = JSON.parse(run.stdout) as ClaudeCodeResult;
      expect(result).toMatchObject({ type: 'result', subtype: 'success', is_error: false });
      expect(result.num_turns).toBe(2);
      expect(result.result).toMatch(/^Tool result: File created successfully/);

      // Upstream saw exactly Claude Code's two calls, as Claude Code sent them.
      const upstream = stack.claude.requests.slice(seen) as Array<RecordedRequest & { body: Body }>;
      expect(upstream.map((request) => `${request.method} ${request.path}`)).toEqual([
        'POST /v1/messages',
        'POST /v1/messages',
      ]);
      for (const request of upstream) {
        expect(request.headers['anthropic-beta']?.split(',')).toEqual(
          expect.arrayContaining(['claude-code-20250219', 'interleaved-thinking-2025-05-14']),
        );
        expect(request.body.thinking).toEqual({ type: 'adaptive', display: 'omitted' });
        expect(JSON.stringify(request.headers)).not.toContain(key);
      }
      const [call] = toolUses(upstream[1]!.body) as Array<{
        id: string;
        name: string;
        input: { file_path: string; content: string };
      }>;
      expect(call?.name).toBe('Write');
      expect(toolResults(upstream[1]!.body)).toEqual([
        expect.objectContaining({ tool_use_id: call!.id }),
      ]);
      // The tool really ran, in Claude Code's working directory. The local Claude takes the
      // file's name and content from the first words of the last user message, which Claude
      // Code opens with a <system-reminder> of its own: read them from the call, not guessed.
      expect(await readFile(join(work, call!.input.file_path), 'utf8')).toBe(call!.input.content);
      if (model === 'claude-opus-4-8') {
        // Opus 4.8 gets Claude Code's context as system messages between the turns.
        expect(upstream[1]!.body.messages.map((message) => message.role)).toContain('system');
      }

      // Billed exactly what Claude Code says it cost, two usage records, nothing left held.
      const costNanoUsd = usdToNano(result.total_cost_usd);
      const spent = await ledger.userMonth(principal, month());
      expect(spent).toMatchObject({ requests: 2, spentNanoUsd: costNanoUsd });
      expect(spent.heldNanoUsd).toBe(spent.spentNanoUsd);
      const keySpent = await ledger.keyMonth(id, month());
      expect(keySpent).toMatchObject({ requests: 2, spentNanoUsd: costNanoUsd });
      expect(keySpent.heldNanoUsd).toBe(keySpent.spentNanoUsd);
      const report = await new DynamoUsageRecords(stack.documentClient, stack.tableName).report(
        month(),
        { top: 100 },
      );
      expect(report.byKey.find((totals) => totals.name === id)).toMatchObject({
        requests: 2,
        outputTokens: result.usage.output_tokens,
        costNanoUsd,
      });
    },
  );

  it('tells a Claude Code user that a model there is not does not exist (404), never sending it upstream', async () => {
    const { key } = await createApiKey(stack, { principal: 'coder-nope' });
    const home = await mkdtemp(join(scratch, 'home-'));
    const work = await mkdtemp(join(scratch, 'work-'));
    const seen = stack.claude.requests.length;

    const run = await runClaudeCode(
      ['-p', 'hi', '--output-format', 'json', '--model', 'claude-nope-9'],
      {
        cwd: work,
        env: {
          HOME: home,
          ANTHROPIC_BASE_URL: stack.url,
          ANTHROPIC_API_KEY: key,
          CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
          DISABLE_AUTOUPDATER: '1',
          DISABLE_TELEMETRY: '1',
        },
      },
    );

    const result = JSON.parse(run.stdout) as ClaudeCodeResult & { api_error_status?: number };
    expect(result).toMatchObject({ is_error: true, api_error_status: 404 });
    // Claude Code's own words for a model the API does not know, and its way out.
    expect(result.result).toMatch(/selected model \(claude-nope-9\)\. It may not exist.*--model/);
    expect(stack.claude.requests.slice(seen)).toEqual([]);
  });
});
