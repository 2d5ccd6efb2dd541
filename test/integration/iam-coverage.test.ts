import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildSync } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FUNCTION_ENTRY, PROJECT_ROOT } from '../../infra/paths.js';
import { LOCAL_STACK } from '../../local-stack/dev-settings.js';
import { logicalId, statementsOfRole, synthesize } from '../infra/synth.js';
import { type AwsCall, recordAwsCalls } from './support/aws-calls.js';
import { startFakeSecretsManager } from './support/fake-secrets-manager.js';
import { allows, customerKeyOf, keyDelegatesToIam } from './support/iam-policy.js';
import { type IamRequirement, requirementsOf } from './support/iam-requirements.js';
import { runIamWorkload } from './support/iam-workload.js';
import { startTestStack, type TestStack } from './support/test-stack.js';

type FunctionName = keyof typeof FUNCTION_ENTRY;

const SECRET_ARNS = {
  anthropicApiKey: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:anthropic-api-key-AbCdEf',
  jwtSecret: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:jwt-secret-AbCdEf',
  signingKey: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:signing-key-AbCdEf',
} as const;

/**
 * Commands a function's code imports that the workload does not send, each with why and the
 * actions on the table it would need (checked against the role all the same). Every other
 * imported command must have been recorded, and so checked: a command added later is either
 * reached by the workload or listed here by hand.
 */
const NOT_REACHED: Record<FunctionName, Record<string, { why: string; needs: string[] }>> = {
  chat: {},
  worker: {
    BatchWriteCommand: {
      why: "deletes a compaction's parts once it fails or is cancelled, or its conversation is deleted",
      needs: ['dynamodb:BatchWriteItem'],
    },
  },
  maintenance: {
    UpdateCommand: {
      why: 'ends a turn whose function died: the workload runs the chat function in this process, which cannot die mid-turn',
      needs: ['dynamodb:UpdateItem'],
    },
    BatchWriteCommand: {
      why: "deletes an ended turn's answer pieces or a deleted conversation's rest (the conversation store's, shared with the chat function)",
      needs: ['dynamodb:BatchWriteItem'],
    },
  },
};

/** The `*Command` classes a function's own code (functions/, shared/) imports from the AWS SDK. */
function importedCommands(entry: string): Set<string> {
  const { metafile } = buildSync({
    entryPoints: [entry],
    bundle: true,
    write: false,
    metafile: true,
    packages: 'external',
    absWorkingDir: PROJECT_ROOT,
    platform: 'node',
    format: 'esm',
    outdir: join(PROJECT_ROOT, '.local', 'iam-coverage'),
    logLevel: 'silent',
  });
  const commands = new Set<string>();
  for (const file of Object.keys(metafile.inputs)) {
    const source = readFileSync(join(PROJECT_ROOT, file), 'utf8');
    for (const [, names] of source.matchAll(/import\s*\{([^}]*)\}\s*from\s*'@aws-sdk\/[^']+'/g)) {
      for (const name of names!.split(',').map((part) => part.trim())) {
        if (/^[A-Za-z]+Command$/.test(name)) commands.add(name);
      }
    }
  }
  return commands;
}

describe('the IAM grants the functions need on AWS (the emulators check none)', () => {
  let stack: TestStack;
  let secrets: Awaited<ReturnType<typeof startFakeSecretsManager>>;
  let recording: ReturnType<typeof recordAwsCalls>;
  const { json, stack: cdkStack } = synthesize();
  const roleOf: Record<FunctionName, string> = {
    chat: logicalId(cdkStack, cdkStack.chat.handler.role.roleName),
    worker: logicalId(cdkStack, cdkStack.jobs.worker.role.roleName),
    maintenance: logicalId(cdkStack, cdkStack.maintenance.handler.role.roleName),
  };
  const token = (ref: string) => `{${logicalId(cdkStack, ref)}}`;

  beforeAll(async () => {
    recording = recordAwsCalls();
    secrets = await startFakeSecretsManager({
      [SECRET_ARNS.anthropicApiKey]: LOCAL_STACK.localClaudeApiKey,
      [SECRET_ARNS.jwtSecret]: LOCAL_STACK.jwtSecret,
      [SECRET_ARNS.signingKey]: LOCAL_STACK.signingKey,
    });
    process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER = secrets.url;
    stack = await startTestStack({
      worker: true,
      maintenanceEveryMs: 3_600_000,
      claude: { batchProcessingMs: 300 },
      env: {
        COMPACTION_THRESHOLD_TOKENS: '150',
        BATCH_POLL_SECONDS: '1',
        // A throttled job is handed back to the queue at once, delayed by a second.
        MODEL_MAX_RETRIES: '0',
        JOB_RETRY_BASE_SECONDS: '1',
        ANTHROPIC_API_KEY_SECRET_ARN: SECRET_ARNS.anthropicApiKey,
        JWT_SECRET_ARN: SECRET_ARNS.jwtSecret,
        SIGNING_KEY_SECRET_ARN: SECRET_ARNS.signingKey,
      },
    });
    await runIamWorkload(stack);
  }, 120_000);
  afterAll(async () => {
    recording?.stop();
    await stack?.close();
    await secrets?.close();
    delete process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER;
  });

  const resolve = {
    table: (name: string) => {
      if (name !== stack.tableName) throw new Error(`a call to table ${name}, not the stack's`);
      return token(cdkStack.data.table.tableName);
    },
    queue: (url: string) => {
      if (url === stack.queueUrl) return token(cdkStack.jobs.queue.queueUrl);
      if (url === stack.deadLetterQueueUrl) return token(cdkStack.jobs.deadLetterQueue.queueUrl);
      throw new Error(`a call to queue ${url}, not the stack's`);
    },
    topic: (arn: string) => {
      if (arn !== stack.eventsTopicArn) throw new Error(`a call to topic ${arn}, not the stack's`);
      return token(cdkStack.jobEvents.topic.topicArn);
    },
    secret: (id: string) => {
      const name = Object.entries(SECRET_ARNS).find(([, arn]) => arn === id)?.[0];
      const secret = name && cdkStack.secrets[name as keyof typeof SECRET_ARNS];
      if (!secret) throw new Error(`a read of secret ${id}, not the stack's`);
      return token(secret.secretArn);
    },
  };

  /** The key use behind an encrypted topic, queue or secret, when the key is a customer's. */
  const keyRequirements = ({ action, resource }: IamRequirement): IamRequirement[] => {
    const key = customerKeyOf(json, resource.replace(/^\{|\}$/g, ''));
    if (!key) return [];
    if (!keyDelegatesToIam(json, key)) throw new Error(`the policy of key ${key} ignores IAM`);
    const uses: Record<string, string[]> = {
      'sns:Publish': ['kms:GenerateDataKey', 'kms:Decrypt'],
      'sqs:SendMessage': ['kms:GenerateDataKey', 'kms:Decrypt'],
      'sqs:ReceiveMessage': ['kms:Decrypt'],
      'secretsmanager:GetSecretValue': ['kms:Decrypt'],
    };
    return (uses[action] ?? []).map((use) => ({ action: use, resource: key }));
  };

  /** Every call as `function: action on resource (command)`, once each. */
  const requiredOf = (calls: AwsCall[]) => {
    const required = new Map<string, { fn: FunctionName; requirement: IamRequirement }>();
    for (const call of calls) {
      for (const base of requirementsOf(call, resolve)) {
        for (const requirement of [base, ...keyRequirements(base)]) {
          const fn = call.functionName as FunctionName;
          const via = call.via ? ` via ${call.via}` : '';
          required.set(
            `${fn}${via}: ${requirement.action} on ${requirement.resource} (${call.command})`,
            { fn, requirement },
          );
        }
      }
    }
    return required;
  };

  it('recorded calls of every function, and the event-source mapping of the worker', () => {
    const seen = new Set(
      recording.calls.map((call) => `${call.functionName}${call.via ? `/${call.via}` : ''}`),
    );
    expect([...seen].sort()).toEqual([
      'chat',
      'maintenance',
      'worker',
      'worker/event-source-mapping',
    ]);
  });

  it("grants each function's role every action its calls need, on the resource they target", () => {
    const required = requiredOf(recording.calls);
    const missing = [...required]
      .filter(
        ([, { fn, requirement }]) =>
          !allows(statementsOfRole(json, roleOf[fn]), requirement.action, requirement.resource),
      )
      .map(([line]) => line);
    expect(missing).toEqual([]);
    // The check saw each kind of call it is meant to judge.
    const actions = new Set([...required.values()].map(({ requirement }) => requirement.action));
    for (const action of [
      'dynamodb:Query',
      'sqs:SendMessage',
      'sns:Publish',
      'secretsmanager:GetSecretValue',
    ]) {
      expect(actions).toContain(action);
    }
  });

  it('grants what the calls the workload does not reach would need, on the table', () => {
    const table = token(cdkStack.data.table.tableName);
    const missing = Object.entries(NOT_REACHED).flatMap(([fn, commands]) =>
      Object.entries(commands).flatMap(([command, { needs }]) =>
        needs
          .filter(
            (action) => !allows(statementsOfRole(json, roleOf[fn as FunctionName]), action, table),
          )
          .map((action) => `${fn}: ${action} on ${table} (${command})`),
      ),
    );
    expect(missing).toEqual([]);
  });

  it.each(Object.keys(FUNCTION_ENTRY) as FunctionName[])(
    'saw the %s function send every command its code imports, or lists why not',
    (fn) => {
      const sent = new Set(
        recording.calls
          .filter((call) => call.functionName === fn && !call.via)
          .map((call) => call.command),
      );
      const unaccounted = [...importedCommands(FUNCTION_ENTRY[fn])].filter(
        (command) => !sent.has(command) && !(command in NOT_REACHED[fn]),
      );
      expect(unaccounted).toEqual([]);
    },
  );
});
