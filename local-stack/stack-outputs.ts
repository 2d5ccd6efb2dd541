import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { localStateDir } from './dev-settings.js';

/** Where a running `npm start` says everything is: `outputs.json` in its state directory, as the stack's outputs. */
export interface StackOutputs {
  /** With a trailing slash, as a function URL has. */
  functionUrl: string;
  tableName: string;
  dynamodbEndpoint: string;
  queueUrl: string;
  deadLetterQueueUrl: string;
  sqsEndpoint: string;
  eventsTopicArn: string;
  snsEndpoint: string;
  claude: { mode: 'local' | 'anthropic'; url: string };
}

const outputsPath = () => resolve(localStateDir(), 'outputs.json');

export function writeStackOutputs(outputs: StackOutputs): void {
  writeFileSync(outputsPath(), `${JSON.stringify(outputs, null, 2)}\n`);
}

/** The outputs `npm start` wrote; undefined when it has written none (it never ran here). */
export function readStackOutputs(): StackOutputs | undefined {
  try {
    return JSON.parse(readFileSync(outputsPath(), 'utf8')) as StackOutputs;
  } catch {
    return undefined;
  }
}
