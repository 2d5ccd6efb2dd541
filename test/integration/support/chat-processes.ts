import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { inject } from 'vitest';
import { localFunctionEnv } from '../../../local-stack/function-env.js';
import type { TestStack } from './test-stack.js';

const SCRIPT = fileURLToPath(new URL('./chat-function-process.ts', import.meta.url));

/**
 * A chat function of its own process on the stack's table, queue and local Claude, so a
 * test can kill it (SIGKILL) or freeze it (SIGSTOP) mid-answer. `lines`: what it writes
 * to stdout after its URL (its metrics, as EMF lines, when enabled).
 */
export async function startChatProcess(
  stack: TestStack,
  tuning: { leaseMs: number; pieceMs: number },
): Promise<{ url: string; child: ChildProcess; lines: string[] }> {
  const child = spawn(process.execPath, ['--import', 'tsx', SCRIPT], {
    env: {
      ...process.env,
      ...localFunctionEnv({
        tableName: stack.tableName,
        dynamodbEndpoint: inject('dynamodbEndpoint'),
        queueUrl: stack.queueUrl,
        deadLetterQueueUrl: stack.deadLetterQueueUrl,
        sqsEndpoint: inject('sqsEndpoint'),
        localClaudeUrl: stack.claude.url,
      }),
      TURN_LEASE_MS: String(tuning.leaseMs),
      ANSWER_PIECE_INTERVAL_MS: String(tuning.pieceMs),
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines: string[] = [];
  const url = new Promise<string>((resolve) => {
    let started = false;
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (started) lines.push(line);
      else resolve((JSON.parse(line) as { url: string }).url);
      started = true;
    });
  });
  return { url: await url, child, lines };
}
