import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';

/**
 * What the chat function's DynamoDB calls cost, counted by a middleware that asks every data
 * call for `ReturnConsumedCapacity: 'TOTAL'` and sums the answers.
 *
 * DynamoDB Local reports single-item, query and batch capacity as AWS bills it (checked here:
 * 1 WCU per KB written, index writes included, 1 RCU per 4 KB read strongly consistent, 0.5
 * eventually, TransactGetItems doubled), but not TransactWriteItems: it reported 4 WCU for one
 * to four small items, 4 × the plain cost for items in different partitions, and less when they
 * share one. AWS bills two writes per item and KB (prepare and commit), see
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis.html#transaction-capacity-handling,
 * so `aws` replaces Local's transaction figure with that rule applied to the request: a Put's
 * size is computed from its item; an Update, Delete or ConditionCheck is taken as 1 KB (the
 * counters and conversation heads updated in transactions are well under it); index writes are
 * added for a Put of an item with index keys (1) and an Update that sets them (2: delete + put).
 * A write whose condition fails is billed on AWS but reports nothing: it is counted as 1 WCU
 * (2 per item for a cancelled transaction).
 */
export interface DynamoDbUsage {
  /** Requests sent (SDK retries not included). */
  calls: number;
  byOperation: Record<string, number>;
  /** Capacity as DynamoDB Local reported it. */
  reported: Capacity;
  /** Capacity as AWS bills it (see above). */
  aws: Capacity;
  /** Writes refused by their condition (single writes, and transactions cancelled by one). */
  conditionFailures: number;
  /** Transactions cancelled by a concurrent transaction on the same item. */
  transactionConflicts: number;
  /** Throttling errors (none expected on DynamoDB Local). */
  throttles: number;
  otherErrors: number;
}

export interface Capacity {
  rcu: number;
  wcu: number;
}

const READS = new Set(['GetItem', 'Query', 'Scan', 'BatchGetItem', 'TransactGetItems']);
const WRITES = new Set([
  'PutItem',
  'UpdateItem',
  'DeleteItem',
  'BatchWriteItem',
  'TransactWriteItems',
]);
const INDEX_KEYS = ['gsi1pk', 'gsi1sk'];

export function emptyUsage(): DynamoDbUsage {
  return {
    calls: 0,
    byOperation: {},
    reported: { rcu: 0, wcu: 0 },
    aws: { rcu: 0, wcu: 0 },
    conditionFailures: 0,
    transactionConflicts: 0,
    throttles: 0,
    otherErrors: 0,
  };
}

/** `after - before`, field by field. */
export function usageBetween(before: DynamoDbUsage, after: DynamoDbUsage): DynamoDbUsage {
  const byOperation: Record<string, number> = {};
  for (const [op, count] of Object.entries(after.byOperation)) {
    const delta = count - (before.byOperation[op] ?? 0);
    if (delta) byOperation[op] = delta;
  }
  const minus = (a: Capacity, b: Capacity) => ({ rcu: a.rcu - b.rcu, wcu: a.wcu - b.wcu });
  return {
    calls: after.calls - before.calls,
    byOperation,
    reported: minus(after.reported, before.reported),
    aws: minus(after.aws, before.aws),
    conditionFailures: after.conditionFailures - before.conditionFailures,
    transactionConflicts: after.transactionConflicts - before.transactionConflicts,
    throttles: after.throttles - before.throttles,
    otherErrors: after.otherErrors - before.otherErrors,
  };
}

/**
 * Meters a DynamoDB client (and the document clients made from it): a benchmark hook. Calls
 * and failures are always counted; capacity only while `askCapacity()` says so, since asking
 * for it makes DynamoDB Local slower (~0.6 ms a call) and the function never asks.
 */
export function meterClient(
  client: DynamoDBClient,
  usage: DynamoDbUsage,
  askCapacity: () => boolean = () => true,
): void {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const operation = String(context.commandName ?? '').replace(/Command$/, '');
      const input = args.input as Record<string, unknown>;
      const metered = (READS.has(operation) || WRITES.has(operation)) && askCapacity();
      if (metered) input.ReturnConsumedCapacity ??= 'TOTAL';
      usage.calls++;
      usage.byOperation[operation] = (usage.byOperation[operation] ?? 0) + 1;
      try {
        const result = await next(args);
        if (metered)
          record(usage, operation, input, result.output as unknown as Record<string, unknown>);
        return result;
      } catch (error) {
        recordFailure(usage, operation, input, error);
        throw error;
      }
    },
    { step: 'initialize', name: 'benchConsumedCapacity', override: true },
  );
}

function record(
  usage: DynamoDbUsage,
  operation: string,
  input: Record<string, unknown>,
  output: Record<string, unknown>,
): void {
  const consumed = output.ConsumedCapacity as
    | { CapacityUnits?: number }
    | { CapacityUnits?: number }[]
    | undefined;
  const units = [consumed ?? []].flat().reduce((sum, c) => sum + (c.CapacityUnits ?? 0), 0);
  const kind = READS.has(operation) ? 'rcu' : 'wcu';
  usage.reported[kind] += units;
  usage.aws[kind] += operation === 'TransactWriteItems' ? transactWriteWcu(input) : units;
}

function recordFailure(
  usage: DynamoDbUsage,
  operation: string,
  input: Record<string, unknown>,
  error: unknown,
): void {
  const name = (error as { name?: string }).name ?? '';
  if (name === 'ConditionalCheckFailedException') {
    usage.conditionFailures++;
    usage.aws.wcu += 1;
  } else if (name === 'TransactionCanceledException') {
    const reasons = (error as { CancellationReasons?: { Code?: string }[] }).CancellationReasons;
    const codes = (reasons ?? []).map((r) => r.Code);
    if (codes.includes('TransactionConflict')) usage.transactionConflicts++;
    else if (codes.includes('ConditionalCheckFailed')) usage.conditionFailures++;
    else usage.otherErrors++;
    if (operation === 'TransactWriteItems') usage.aws.wcu += transactWriteWcu(input);
  } else if (/Throughput|Throttl|RequestLimitExceeded/.test(name)) {
    usage.throttles++;
  } else {
    usage.otherErrors++;
  }
}

/** AWS's bill for a TransactWriteItems: two writes per item and KB, plus index writes. */
export function transactWriteWcu(input: Record<string, unknown>): number {
  const items = (input.TransactItems ?? []) as Record<string, Record<string, unknown>>[];
  let wcu = 0;
  for (const action of items) {
    if (action.Put) {
      const item = action.Put.Item as Record<string, unknown>;
      const indexWrites = INDEX_KEYS.some((key) => key in item) ? 1 : 0;
      wcu += 2 * (Math.ceil(itemBytes(item) / 1024) + indexWrites);
    } else if (action.Update) {
      const expression = String(action.Update.UpdateExpression ?? '');
      const setsIndexKey = INDEX_KEYS.some((key) => expression.includes(key));
      wcu += 2 * (1 + (setsIndexKey ? 2 : 0));
    } else {
      wcu += 2;
    }
  }
  return wcu;
}

/**
 * An item's size as DynamoDB counts it: attribute names plus values (UTF-8 strings, numbers
 * at about one byte per two digits, binary as is, 3 bytes per list or map plus 1 per element).
 */
export function itemBytes(item: Record<string, unknown>): number {
  let bytes = 0;
  for (const [name, value] of Object.entries(item)) {
    if (value === undefined) continue;
    bytes += Buffer.byteLength(name) + valueBytes(value);
  }
  return bytes;
}

function valueBytes(value: unknown): number {
  if (typeof value === 'string') return Buffer.byteLength(value);
  if (typeof value === 'number' || typeof value === 'bigint')
    return Math.ceil(String(value).replace(/[-.]/g, '').length / 2) + 1;
  if (typeof value === 'boolean' || value === null) return 1;
  if (value instanceof Uint8Array) return value.byteLength;
  if (value instanceof Set) return [...value].reduce((sum: number, v) => sum + valueBytes(v), 0);
  if (Array.isArray(value)) return 3 + value.reduce((sum: number, v) => sum + 1 + valueBytes(v), 0);
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>);
    return 3 + entries.reduce((sum, [k, v]) => sum + 1 + Buffer.byteLength(k) + valueBytes(v), 0);
  }
  return 0;
}
