/**
 * The chat function alone in its own Node process, as a Lambda execution environment runs
 * it: the real handler behind the local function URL, pointed at the emulators and at a
 * Claude in the parent process. The bench bundles this file (as the stack bundles the
 * handler) and runs it with plain `node`, so its RSS and CPU time are the function's own:
 * no bench client, no local Claude doing work, no emulator. Driven over IPC (see
 * chat-child.ts). Two instances of the product: the full stack, and the same stack with
 * admission (budget reservation and rate limit) replaced by no-ops.
 */
import '../local-stack/lambda-runtime/install-globals.js';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { startProduct } from '../local-stack/product.js';
import { emptyUsage, meterClient } from './dynamodb-capacity.js';
import { noBudget, noRateLimit } from './no-admission.js';

export interface ChatProcessInit {
  type: 'init';
  dynamodbEndpoint: string;
  sqsEndpoint: string;
  claudeUrl: string;
  env: Record<string, string>;
  /** Also start the stack without budget and rate checks. */
  unguarded: boolean;
}

export interface ChatProcessSnapshot {
  type: 'snapshot';
  id: number;
  /** process.cpuUsage(): user + system, microseconds since start. */
  cpuUs: number;
  rssBytes: number;
  heapUsedBytes: number;
  /** Peak RSS of the process so far (getrusage), bytes. */
  maxRssBytes: number;
  dynamodb: ReturnType<typeof emptyUsage>;
}

const usage = emptyUsage();
/** Whether DynamoDB is asked for the capacity of each call (see meterClient). */
let askCapacity = true;
const send = (message: unknown) => process.send?.(message);

let close = async () => {};
process.on('message', (message: { type: string; id?: number } & Partial<ChatProcessInit>) => {
  if (message.type === 'init') void init(message as ChatProcessInit);
  else if (message.type === 'snapshot') send(snapshot(message.id ?? 0));
  else if (message.type === 'capacity') {
    askCapacity = (message as { on?: boolean }).on === true;
    send({ type: 'capacity-done', id: message.id });
  } else if (message.type === 'gc') {
    (globalThis as { gc?: () => void }).gc?.();
    send({ type: 'gc-done', id: message.id });
  } else if (message.type === 'stop') void close().finally(() => process.exit(0));
});
process.on('disconnect', () => process.exit(0));

async function init(options: ChatProcessInit): Promise<void> {
  const common = {
    dynamodbEndpoint: options.dynamodbEndpoint,
    sqsEndpoint: options.sqsEndpoint,
    anthropicBaseUrl: options.claudeUrl,
    env: options.env,
    observeChatDynamoDb: (client: DynamoDBClient) => meterClient(client, usage, () => askCapacity),
    // The chat function alone: no sweep (its DynamoDB calls would be counted as the turns'),
    // and no worker or sweep module loaded beside it.
    maintenance: false,
  };
  const full = await startProduct(common);
  const unguarded = options.unguarded
    ? await startProduct({
        ...common,
        customizeChat: (deps) => ({
          ...deps,
          ledger: noBudget(deps.ledger),
          rateLimiter: noRateLimit,
        }),
      })
    : undefined;
  close = async () => {
    await Promise.all([full.close(), unguarded?.close()]);
  };
  send({ type: 'ready', urls: { full: full.url, unguarded: unguarded?.url } });
}

function snapshot(id: number): ChatProcessSnapshot {
  const cpu = process.cpuUsage();
  const memory = process.memoryUsage();
  return {
    type: 'snapshot',
    id,
    cpuUs: cpu.user + cpu.system,
    rssBytes: memory.rss,
    heapUsedBytes: memory.heapUsed,
    maxRssBytes: process.resourceUsage().maxRSS * 1024,
    dynamodb: structuredClone(usage),
  };
}
