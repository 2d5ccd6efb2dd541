/**
 * npm run redrive: moves every message of the running local stack's dead-letter queue back
 * to the jobs queue, as "Start DLQ redrive" does on AWS (docs/runbook.md, DeadLetters).
 */
import { SQSClient } from '@aws-sdk/client-sqs';
import { ensureLocalAwsEnv } from './function-env.js';
import { redriveDeadLetters } from './redrive-dead-letters.js';
import { readStackOutputs } from './stack-outputs.js';

const outputs = readStackOutputs();
if (!outputs) {
  console.error('The local stack is not running: start it with `npm start`.');
  process.exit(1);
}
ensureLocalAwsEnv();
const sqs = new SQSClient({ endpoint: outputs.sqsEndpoint });
try {
  const moved = await redriveDeadLetters(sqs, outputs);
  console.log(`moved ${moved} message${moved === 1 ? '' : 's'} back to the jobs queue`);
} catch (error) {
  const said = error instanceof Error ? error.message : String(error);
  console.error(`Could not redrive (is the local stack running? npm start): ${said}`);
  process.exitCode = 1;
}
