import {
  ERROR_STATUS,
  type ErrorType,
  errorTypeForStatus,
  invalidRequest,
  isErrorType,
} from './errors.js';

/** A fault that ends or breaks the response. */
export type Fault =
  | {
      kind: 'error-before';
      status: number;
      type: ErrorType;
      retryAfterSeconds?: number;
      /** `error.details.error_code`, by which the SDKs pick a typed error. */
      errorCode?: string;
      /** The `x-should-retry` header, which the SDKs obey over their own rules. */
      shouldRetry?: boolean;
      /** The API's refusal of a prompt this long, in its words (`prompt is too long: …`). */
      promptTokens?: number;
      /** The API's refusal of an account out of credit, which it sends as a 400, in its words. */
      outOfCredit?: boolean;
    }
  | { kind: 'error-mid'; after: number; type: ErrorType }
  /** A 200 stream whose first event is the error, before message_start: load shed after the status. */
  | { kind: 'error-first'; type: ErrorType }
  | { kind: 'drop'; after: number }
  /** Not streaming: the headers and the start of the body, then the socket is destroyed. Streaming: as `drop`. */
  | { kind: 'cut'; after: number }
  /** The stream ends cleanly after `after` deltas, without content_block_stop, message_delta or message_stop. */
  | { kind: 'end'; after: number }
  /** After `after` deltas, one event whose data is not JSON (cut short); the answer goes on to its end. */
  | { kind: 'garble'; after: number }
  | { kind: 'stall'; after: number }
  /** No response at all, not even headers, until the client gives up. */
  | { kind: 'hang' };

/** What a test asked of one request, from the message text and the header. */
export interface Directive {
  fault?: Fault;
  /** The fault applies to the first `times` requests carrying `key` (all when absent). */
  times?: number;
  /** Counts `times`; defaults to the directive's own text. */
  key: string;
  /** The fault applies only to requests for this model. */
  model?: string;
  /** Reply length in tokens, before `max_tokens` cuts it. */
  tokens?: number;
  ttftMs?: number;
  tokensPerSecond?: number;
  /** Milliseconds between the pings of a stream that shows nothing meanwhile. */
  keepAliveMs?: number;
  /**
   * `echo`: the reply starts with "Echo:" and the first words of the last user message.
   * `tool`: the reply calls a tool of the request (`tool`, or the first custom one).
   */
  reply?: 'echo' | 'tool';
  /** The tool a `reply=tool` (or `tool_choice: any`) reply calls. */
  tool?: string;
  /** Thinking tokens a thinking reply spends before answering. */
  thinkingTokens?: number;
  /** Web searches the reply's usage reports in `server_tool_use`, as a server tool would. */
  webSearches?: number;
  /** Reported `input_tokens`, whatever the prompt: a tokenizer or server tool counting more. */
  inputTokens?: number;
  /** The `model` the reply names, as a proxy or a dated alias would. */
  answerModel?: string;
  /** How long a Message Batch created with this (header) directive stays in progress. */
  batchMs?: number;
  /** The stop reason a text reply ends with, in place of `end_turn`, as the API may send it. */
  stopReason?: DirectedStopReason;
}

/** The stop reasons a directive may make a reply end with. */
export const DIRECTED_STOP_REASONS = [
  'refusal',
  'pause_turn',
  'model_context_window_exceeded',
] as const;
export type DirectedStopReason = (typeof DIRECTED_STOP_REASONS)[number];

/** Header a test can set instead of (or on top of) a directive in the message text. */
export const DIRECTIVE_HEADER = 'x-local-claude-directive';

const KEYS = new Set([
  'fault',
  'status',
  'type',
  'retry-after',
  'error-code',
  'should-retry',
  'prompt-tokens',
  'out-of-credit',
  'after',
  'times',
  'key',
  'model',
  'tokens',
  'ttft',
  'tps',
  'ping',
  'reply',
  'tool',
  'thinking-tokens',
  'web-searches',
  'input-tokens',
  'answer-model',
  'batch-ms',
  'stop-reason',
]);

/** A 400 for a directive a test got wrong, so it never passes silently. */
export const directiveError = (message: string) =>
  invalidRequest(`local-claude directive: ${message}`);
const fail = directiveError;

/**
 * Reads `key=value` pairs, later sources winning key by key: pass the message's
 * directives first and the header last.
 * @throws ApiError 400 on an unknown key or a bad value, so a typo never passes silently
 */
export function parseDirective(sources: readonly string[]): Directive {
  const fields = new Map<string, string>();
  for (const source of sources) {
    for (const pair of source.split(/\s+/).filter(Boolean)) {
      const [name, value] = splitPair(pair);
      if (!KEYS.has(name)) throw fail(`unknown key '${name}' (known: ${[...KEYS].join(', ')})`);
      fields.set(name, value);
    }
  }
  const get = (name: string) => fields.get(name);
  const times = optionalInt(fields, 'times', 1);
  const tokens = optionalInt(fields, 'tokens', 1);
  const ttftMs = optionalInt(fields, 'ttft', 0);
  const tokensPerSecond = optionalNumber(fields, 'tps');
  const keepAliveMs = optionalInt(fields, 'ping', 1);
  const reply = get('reply');
  const tool = get('tool');
  const thinkingTokens = optionalInt(fields, 'thinking-tokens', 1);
  const webSearches = optionalInt(fields, 'web-searches', 0);
  const inputTokens = optionalInt(fields, 'input-tokens', 0);
  const answerModel = get('answer-model');
  const batchMs = optionalInt(fields, 'batch-ms', 0);
  const stopReason = get('stop-reason');
  if (stopReason !== undefined && !isDirectedStopReason(stopReason)) {
    throw fail(`stop-reason=${stopReason} (expected ${DIRECTED_STOP_REASONS.join(', ')})`);
  }
  if (reply !== undefined && reply !== 'echo' && reply !== 'tool') {
    throw fail(`reply=${reply} (expected echo or tool)`);
  }
  const fault = parseFault(fields);
  return {
    ...(fault && { fault }),
    ...(times !== undefined && { times }),
    key: get('key') ?? canonical(fields),
    ...(get('model') !== undefined && { model: get('model') }),
    ...(tokens !== undefined && { tokens }),
    ...(ttftMs !== undefined && { ttftMs }),
    ...(tokensPerSecond !== undefined && { tokensPerSecond }),
    ...(keepAliveMs !== undefined && { keepAliveMs }),
    ...((reply === 'echo' || reply === 'tool') && { reply }),
    ...(tool !== undefined && { tool }),
    ...(thinkingTokens !== undefined && { thinkingTokens }),
    ...(webSearches !== undefined && { webSearches }),
    ...(inputTokens !== undefined && { inputTokens }),
    ...(answerModel !== undefined && { answerModel }),
    ...(batchMs !== undefined && { batchMs }),
    ...(stopReason !== undefined && { stopReason }),
  };
}

function isDirectedStopReason(value: string): value is DirectedStopReason {
  return (DIRECTED_STOP_REASONS as readonly string[]).includes(value);
}

function parseFault(fields: Map<string, string>): Fault | undefined {
  const kind = fields.get('fault');
  const after = optionalInt(fields, 'after', 0) ?? 0;
  switch (kind) {
    case undefined:
      return undefined;
    case 'error-before':
      return errorBefore(fields);
    case 'error-mid':
      return { kind, after, type: errorType(fields.get('type') ?? 'overloaded_error') };
    case 'error-first':
      return { kind, type: errorType(fields.get('type') ?? 'overloaded_error') };
    case 'drop':
    case 'cut':
    case 'end':
    case 'garble':
    case 'stall':
      return { kind, after };
    case 'hang':
      return { kind };
    default:
      throw fail(
        `fault=${kind} (expected error-before, error-first, error-mid, drop, cut, end, garble, stall or hang)`,
      );
  }
}

function errorBefore(fields: Map<string, string>): Fault {
  const statusText = fields.get('status');
  const typeText = fields.get('type');
  if (statusText === undefined && typeText === undefined) {
    throw fail('fault=error-before needs status=<code> or type=<error type>');
  }
  const status = statusText === undefined ? undefined : Number(statusText);
  const type = typeText === undefined ? undefined : errorType(typeText);
  const resolvedType = type ?? (status === undefined ? undefined : errorTypeForStatus(status));
  if (!resolvedType) throw fail(`status=${statusText} is not an Anthropic API error status`);
  const retryAfterSeconds = optionalNumber(fields, 'retry-after');
  const errorCode = fields.get('error-code');
  if (errorCode !== undefined && !/^[a-z0-9_]+$/.test(errorCode)) {
    throw fail(`error-code=${errorCode} (expected snake_case, as tool_name_conflict)`);
  }
  const shouldRetry = fields.get('should-retry');
  if (shouldRetry !== undefined && shouldRetry !== 'true' && shouldRetry !== 'false') {
    throw fail(`should-retry=${shouldRetry} (expected true or false)`);
  }
  const promptTokens = optionalInt(fields, 'prompt-tokens', 1);
  if (promptTokens !== undefined && resolvedType !== 'invalid_request_error') {
    throw fail('prompt-tokens= goes with an invalid_request_error (status=400)');
  }
  const outOfCredit = fields.get('out-of-credit');
  if (
    outOfCredit !== undefined &&
    (outOfCredit !== 'true' || resolvedType !== 'invalid_request_error')
  ) {
    throw fail('out-of-credit=true goes with an invalid_request_error (status=400)');
  }
  if (outOfCredit !== undefined && promptTokens !== undefined) {
    throw fail('prompt-tokens= and out-of-credit= are two different messages: give one');
  }
  return {
    kind: 'error-before',
    status: status ?? ERROR_STATUS[resolvedType],
    type: resolvedType,
    ...(retryAfterSeconds !== undefined && { retryAfterSeconds }),
    ...(errorCode !== undefined && { errorCode }),
    ...(shouldRetry !== undefined && { shouldRetry: shouldRetry === 'true' }),
    ...(promptTokens !== undefined && { promptTokens }),
    ...(outOfCredit !== undefined && { outOfCredit: true }),
  };
}

function errorType(value: string): ErrorType {
  if (!isErrorType(value)) throw fail(`type=${value} is not an Anthropic API error type`);
  return value;
}

function splitPair(pair: string): [string, string] {
  const at = pair.indexOf('=');
  if (at <= 0 || at === pair.length - 1) throw fail(`'${pair}' is not key=value`);
  return [pair.slice(0, at), pair.slice(at + 1)];
}

function optionalInt(fields: Map<string, string>, name: string, min: number): number | undefined {
  const text = fields.get(name);
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < min) {
    throw fail(`${name}=${text} (expected an integer >= ${min})`);
  }
  return value;
}

function optionalNumber(fields: Map<string, string>, name: string): number | undefined {
  const text = fields.get(name);
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0) throw fail(`${name}=${text} (expected a number >= 0)`);
  return value;
}

function canonical(fields: Map<string, string>): string {
  return [...fields]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, value]) => `${name}=${value}`)
    .join(' ');
}
