/**
 * npm run enqueue -- <file> [userId] [--batch] [--job-id ID]: sends a document to the
 * running local stack and follows the job by its events until it ends;
 * local-stack/enqueue-command.ts runs it.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { LOCAL_STACK } from './dev-settings.js';
import { signDevToken } from './dev-token.js';
import { type LocalStackOutputs, runEnqueue } from './enqueue-command.js';
import { ensureLocalAwsEnv } from './function-env.js';

function localStackOutputs(): LocalStackOutputs | undefined {
  try {
    return JSON.parse(readFileSync(resolve(LOCAL_STACK.stateDir, 'outputs.json'), 'utf8'));
  } catch {
    return undefined;
  }
}

ensureLocalAwsEnv();
const interrupted = new AbortController();
process.once('SIGINT', () => interrupted.abort());
process.exitCode = await runEnqueue(process.argv.slice(2), {
  outputs: localStackOutputs(),
  token: (userId) => signDevToken(userId, { secret: process.env.JWT_SECRET }),
  print: (text) => console.log(text),
  printError: (text) => console.error(text),
  signal: interrupted.signal,
});
