import { createRequire } from 'node:module';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { currentInvocationScope } from '../../../local-stack/lambda-runtime/invocation-scope.js';

/** One AWS SDK request a local function sent: whose, through which client, what. */
export interface AwsCall {
  functionName: string;
  /** Set when Lambda sent it for the function (an event-source mapping), under its role. */
  via?: string;
  /** The client's class: DynamoDBClient, DynamoDBDocumentClient, SQSClient, … */
  client: string;
  /** The command's class: PutCommand, PutItemCommand, SendMessageCommand, … */
  command: string;
  input: Record<string, unknown>;
}

interface Sender {
  send(this: object, command: object, ...rest: unknown[]): unknown;
}

/**
 * Records every request any AWS SDK client sends while a local function runs (a wrapper
 * on `send` of the SDK's one client base class, so clients made deep inside a library,
 * Powertools' included, are seen too). Both module builds of the base are wrapped: a
 * library may load either. Calls made outside a function (tests, setup) are not recorded.
 */
export function recordAwsCalls(): { calls: AwsCall[]; stop: () => void } {
  const calls: AwsCall[] = [];
  const require = createRequire(import.meta.url);
  const bases = new Set<Sender>([
    Object.getPrototypeOf(DynamoDBClient.prototype) as Sender,
    Object.getPrototypeOf(
      (require('@aws-sdk/client-dynamodb') as { DynamoDBClient: typeof DynamoDBClient })
        .DynamoDBClient.prototype,
    ) as Sender,
  ]);
  const restores = [...bases].map((base) => {
    const original = base.send;
    base.send = function (this: object, command: object, ...rest: unknown[]) {
      const scope = currentInvocationScope();
      if (scope) {
        calls.push({
          ...scope,
          client: this.constructor.name,
          command: command.constructor.name,
          input: (command as { input?: Record<string, unknown> }).input ?? {},
        });
      }
      return original.call(this, command, ...rest);
    };
    return () => {
      base.send = original;
    };
  });
  return {
    calls,
    stop: () => {
      for (const restore of restores) restore();
    },
  };
}
