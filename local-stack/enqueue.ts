/**
 * npm run enqueue -- <file> [userId] [--batch] [--job-id ID]: sends a document to the
 * running local stack and follows the job by its events until it ends;
 * local-stack/enqueue-command.ts runs it.
 */
import { signDevToken, tokenSigningFromEnv } from './dev-token.js';
import { runEnqueue } from './enqueue-command.js';
import { ensureLocalAwsEnv } from './function-env.js';
import { readStackOutputs } from './stack-outputs.js';

ensureLocalAwsEnv();
const interrupted = new AbortController();
process.once('SIGINT', () => interrupted.abort());
process.exitCode = await runEnqueue(process.argv.slice(2), {
  outputs: readStackOutputs(),
  token: (userId) => signDevToken(userId, tokenSigningFromEnv()),
  print: (text) => console.log(text),
  printError: (text) => console.error(text),
  signal: interrupted.signal,
});
