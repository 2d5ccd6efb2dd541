import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { localStateDir } from '../../local-stack/dev-settings.js';
import {
  readStackOutputs,
  type StackOutputs,
  writeStackOutputs,
} from '../../local-stack/stack-outputs.js';

const outputs: StackOutputs = {
  functionUrl: 'http://127.0.0.1:3101/',
  tableName: 'claude-serverless-local',
  dynamodbEndpoint: 'http://127.0.0.1:8101',
  queueUrl: 'http://127.0.0.1:9401/000000000000/claude-serverless-jobs',
  deadLetterQueueUrl: 'http://127.0.0.1:9401/000000000000/claude-serverless-jobs-dlq',
  sqsEndpoint: 'http://127.0.0.1:9401',
  eventsTopicArn: 'arn:aws:sns:us-east-1:000000000000:claude-serverless-events',
  snsEndpoint: 'http://127.0.0.1:9401',
  claude: { mode: 'local', url: 'http://127.0.0.1:4101' },
};

describe('the local stack state directory', () => {
  let dir: string;
  const saved = process.env.LOCAL_STATE_DIR;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'local-state-'));
  });
  afterEach(() => {
    if (saved === undefined) delete process.env.LOCAL_STATE_DIR;
    else process.env.LOCAL_STATE_DIR = saved;
    rmSync(dir, { recursive: true, force: true });
  });

  it('is .local unless LOCAL_STATE_DIR names another', () => {
    delete process.env.LOCAL_STATE_DIR;
    expect(localStateDir()).toBe('.local');
    process.env.LOCAL_STATE_DIR = '';
    expect(localStateDir()).toBe('.local');
    process.env.LOCAL_STATE_DIR = dir;
    expect(localStateDir()).toBe(dir);
  });

  it('keeps the outputs of a stack started with LOCAL_STATE_DIR where the commands run with it find them', () => {
    process.env.LOCAL_STATE_DIR = dir;
    expect(readStackOutputs()).toBeUndefined();
    writeStackOutputs(outputs);
    expect(readStackOutputs()).toEqual(outputs);

    process.env.LOCAL_STATE_DIR = join(dir, 'another');
    expect(readStackOutputs()).toBeUndefined();
  });
});
