import { randomUUID } from 'node:crypto';
import {
  type ArgumentSpec,
  integerOption,
  numberOption,
  parseCommandArgs,
  UsageError,
} from './admin-args.js';

/** Where a command's requests go and its output comes out. */
export interface AdminCommandIo {
  /** The chat function URL, without a trailing slash. */
  baseUrl: string;
  /** A bearer token that carries the admin claim. */
  token: string;
  fetch: typeof fetch;
  /** Results, as JSON, so they can be piped. */
  print: (text: string) => void;
  /** Usage, notices and errors. @default print */
  printError?: (text: string) => void;
  /**
   * The waits before each retry of a request that got no answer, a 5xx or a 429 (or longer,
   * as its `retry-after` asks, up to 10 s). A key's creation is retried with the same
   * Idempotency-Key, so a retry never makes a second key. @default [1000, 2000, 4000]
   */
  retryDelaysMs?: readonly number[];
  /** How long one attempt waits for its answer before it is retried. @default 30000 */
  attemptTimeoutMs?: number;
}

/** 0: done; 1: the API refused or could not be reached; 2: bad arguments. */
export type AdminExitCode = 0 | 1 | 2;

type Call = (method: string, path: string, body?: unknown) => Promise<unknown>;

interface Command extends ArgumentSpec {
  /** `create-key <principal> [--name N]`: shown when the arguments do not fit. */
  synopsis: string;
  summary: string;
  run(call: Call, positionals: string[], values: Record<string, string | undefined>): unknown;
}

const text = { type: 'string' } as const;

/** `word` (none, all) removes the limit: null; any other value is parsed. */
const removable = <T>(
  word: string,
  value: string | undefined,
  parse: (value: string | undefined) => T,
): T | null => (value?.trim().toLowerCase() === word ? null : parse(value));
/**
 * A path segment. `.` and `..` are refused: a URL resolves them away (`get-key ..` would call
 * GET /v1/admin/, `revoke-key .` DELETE /v1/admin/keys/), so no key or principal has them.
 */
const segment = (value: string | undefined) => {
  if (value === '.' || value === '..') {
    throw new UsageError(`${JSON.stringify(value)} names no key or principal`);
  }
  return encodeURIComponent(value ?? '');
};

const COMMANDS: Record<string, Command> = {
  'create-key': {
    synopsis:
      'create-key <principal> [--name N] [--budget USD] [--rpm N] [--tpm N] [--models a,b] [--expires ISO]',
    summary: 'a new API key acting for <principal>; its secret is shown once',
    positionals: 1,
    options: { name: text, budget: text, rpm: text, tpm: text, models: text, expires: text },
    run: (call, [principal], values) =>
      call('POST', '/v1/admin/keys', {
        principal,
        name: values.name,
        monthlyBudgetUsd: numberOption('--budget', values.budget),
        requestsPerMinute: integerOption('--rpm', values.rpm),
        tokensPerMinute: integerOption('--tpm', values.tpm),
        allowedModels: values.models?.split(',').map((model) => model.trim()),
        expiresAt: values.expires,
      }),
  },
  'list-keys': {
    synopsis: 'list-keys [--principal P]',
    summary: 'every key, newest first, all pages (never their secrets)',
    positionals: 0,
    options: { principal: text },
    run: async (call, _, values) => {
      const keys: unknown[] = [];
      let cursor: string | undefined;
      do {
        const query = new URLSearchParams({ limit: '100' });
        if (values.principal) query.set('principal', values.principal);
        if (cursor) query.set('cursor', cursor);
        const page = (await call('GET', `/v1/admin/keys?${query}`)) as {
          keys: unknown[];
          nextCursor?: string;
        };
        keys.push(...page.keys);
        cursor = page.nextCursor;
      } while (cursor);
      return { keys };
    },
  },
  'get-key': {
    synopsis: 'get-key <id>',
    summary: 'a key and what it spent this month',
    positionals: 1,
    run: (call, [id]) => call('GET', `/v1/admin/keys/${segment(id)}`),
  },
  'revoke-key': {
    synopsis: 'revoke-key <id>',
    summary: 'stops a key (everywhere within seconds)',
    positionals: 1,
    run: (call, [id]) => call('DELETE', `/v1/admin/keys/${segment(id)}`),
  },
  'set-key-limits': {
    synopsis:
      'set-key-limits <id> [--budget USD|none] [--rpm N|none] [--tpm N|none] [--models a,b|all]',
    summary: "changes a key's own limits (none/all removes one); its secret stays the same",
    positionals: 1,
    options: { budget: text, rpm: text, tpm: text, models: text },
    run: (call, [id], values) => {
      if (Object.values(values).every((value) => value === undefined)) {
        throw new UsageError('name at least one of --budget, --rpm, --tpm, --models');
      }
      return call('PATCH', `/v1/admin/keys/${segment(id)}`, {
        monthlyBudgetUsd: removable('none', values.budget, (v) => numberOption('--budget', v)),
        requestsPerMinute: removable('none', values.rpm, (v) => integerOption('--rpm', v)),
        tokensPerMinute: removable('none', values.tpm, (v) => integerOption('--tpm', v)),
        allowedModels: removable('all', values.models, (v) =>
          v?.split(',').map((model) => model.trim()),
        ),
      });
    },
  },
  'get-budget': {
    synopsis: 'get-budget <principal>',
    summary: "the principal's monthly budget and spend",
    positionals: 1,
    run: (call, [principal]) => call('GET', `/v1/admin/principals/${segment(principal)}/budget`),
  },
  'set-budget': {
    synopsis: 'set-budget <principal> <usd>',
    summary: "sets the principal's monthly budget",
    positionals: 2,
    run: (call, [principal, usd]) =>
      call('PUT', `/v1/admin/principals/${segment(principal)}/budget`, {
        monthlyBudgetUsd: numberOption('<usd>', usd),
      }),
  },
  usage: {
    synopsis: 'usage [--month yyyy-mm] [--top N]',
    summary: "the month's spend by principal, key and model (default: this month, top 20)",
    positionals: 0,
    options: { month: text, top: text },
    run: (call, _, values) => {
      const query = new URLSearchParams();
      if (values.month) query.set('month', values.month);
      if (values.top) query.set('top', String(integerOption('--top', values.top)));
      return call('GET', `/v1/admin/usage${query.size > 0 ? `?${query}` : ''}`);
    },
  },
};

export const ADMIN_USAGE = [
  'usage: npm run admin -- <command> [arguments]',
  '',
  ...Object.values(COMMANDS).map(({ synopsis, summary }) => `  ${synopsis}\n      ${summary}`),
].join('\n');

/** An error answer of the admin API, or none at all. */
class AdminApiError extends Error {
  override name = 'AdminApiError';
}

/** Runs one `npm run admin` command (the arguments after `--`) against the admin API. */
export async function runAdminCommand(
  args: readonly string[],
  io: AdminCommandIo,
): Promise<AdminExitCode> {
  const printError = io.printError ?? io.print;
  const [name, ...rest] = args;
  if (name === 'help' || name === '--help') {
    io.print(ADMIN_USAGE);
    return 0;
  }
  // Own properties only: `toString` is no command.
  const command = name !== undefined && Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!command) {
    printError(
      `${name === undefined ? 'no command' : `unknown command: ${name}`}\n\n${ADMIN_USAGE}`,
    );
    return 2;
  }
  try {
    const { positionals, values } = parseCommandArgs(command, rest);
    const result = await command.run(apiCaller(io), positionals, values);
    io.print(printableJson(result));
    if (name === 'create-key') printError(creationNotice(result as CreatedKey, Date.now()));
    return 0;
  } catch (error) {
    if (error instanceof UsageError) {
      printError(`${error.message}\nusage: npm run admin -- ${command.synopsis}`);
      return 2;
    }
    if (error instanceof AdminApiError) {
      printError(error.message);
      return 1;
    }
    throw error;
  }
}

/**
 * JSON as a terminal shows it truly: besides the C0 controls JSON escapes itself, DEL, the C1
 * controls (U+009B is CSI to some terminals), line separators and bidi overrides are
 * escaped too (`\u009b`: the same JSON to jq), as a key named before such names were refused
 * may hold them.
 */
function printableJson(value: unknown): string {
  return JSON.stringify(value, null, 2).replace(
    /[\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g,
    (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** What create-key's answer says of the key's state (a replay answers the key as it is now). */
interface CreatedKey {
  id: string;
  revokedAt?: string;
  expiresAt?: string;
}

/**
 * The notice after a created key. A retry answers the key its first attempt made, which may
 * have been revoked or have expired since: its secret is then worth nothing to store.
 */
function creationNotice(key: CreatedKey, nowMs: number): string {
  const dead = key.revokedAt
    ? `was revoked at ${key.revokedAt}`
    : key.expiresAt && Date.parse(key.expiresAt) <= nowMs
      ? `expired at ${key.expiresAt}`
      : undefined;
  if (dead) {
    return `Key ${key.id}, made by this request, ${dead}: its secret no longer works. Do not store it; create another key.`;
  }
  return 'The key is shown this once: store it now, it cannot be read back.';
}

const MAX_RETRY_AFTER_MS = 10_000;

/** An answer read whole. */
interface Answer {
  status: number;
  headers: Headers;
  text: string;
}

/**
 * Calls the API, retrying what may have been lost on the way: no whole answer (a timeout, a
 * dropped connection), a 5xx or a 429. Every admin call is safe to send again: a key's
 * creation goes with an Idempotency-Key made once per call, so its retries answer the key
 * it made rather than make another.
 */
function apiCaller(io: AdminCommandIo): Call {
  const printError = io.printError ?? io.print;
  const delays = io.retryDelaysMs ?? [1000, 2000, 4000];
  return async (method, path, body) => {
    const init: RequestInit = {
      method,
      headers: {
        authorization: `Bearer ${io.token}`,
        ...(body !== undefined && { 'content-type': 'application/json' }),
        ...(method === 'POST' && { 'idempotency-key': randomUUID() }),
      },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    };
    for (let attempt = 0; ; attempt++) {
      const outcome = await send(io, path, init);
      const delayMs = delays[attempt];
      const lost = outcome instanceof Error;
      if (delayMs === undefined || !(lost || mayRetry(outcome))) {
        if (!lost) return answerOf(outcome, `${method} ${path}`, io.baseUrl);
        throw new AdminApiError(
          `could not reach ${io.baseUrl} (${outcome.message}): is the local stack running (npm start)?`,
        );
      }
      const waitMs = Math.max(delayMs, retryAfterMs(outcome));
      printError(
        `${lost ? `no answer (${outcome.message})` : outcome.status} from ${method} ${path}: trying again in ${waitMs / 1000} s`,
      );
      await new Promise((resolve) => setTimeout(resolve, waitMs));
    }
  };
}

/** The answer read whole, or why there was none. */
async function send(io: AdminCommandIo, path: string, init: RequestInit): Promise<Answer | Error> {
  try {
    const response = await io.fetch(`${io.baseUrl}${path}`, {
      ...init,
      signal: AbortSignal.timeout(io.attemptTimeoutMs ?? 30_000),
    });
    return { status: response.status, headers: response.headers, text: await response.text() };
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error));
  }
}

function mayRetry(answer: Answer): boolean {
  const shouldRetry = answer.headers.get('x-should-retry');
  if (shouldRetry !== null) return shouldRetry === 'true';
  return answer.status >= 500 || answer.status === 429;
}

function retryAfterMs(outcome: Answer | Error): number {
  if (outcome instanceof Error) return 0;
  const seconds = Number(outcome.headers.get('retry-after'));
  return Number.isFinite(seconds) && seconds > 0 ? Math.min(seconds * 1000, MAX_RETRY_AFTER_MS) : 0;
}

/** The answer's JSON. @throws AdminApiError for an error answer, or one that is not JSON */
function answerOf(answer: Answer, request: string, baseUrl: string): unknown {
  let parsed: { error?: { type?: string; message?: string } } | undefined;
  try {
    parsed = JSON.parse(answer.text);
  } catch {
    parsed = undefined;
  }
  if (answer.status < 200 || answer.status > 299) {
    const { type = 'error', message = 'the answer has no error message' } = parsed?.error ?? {};
    throw new AdminApiError(`${answer.status} ${type}: ${message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    // Not the admin API's answer, always a JSON object (a proxy's page, another server on the
    // port): what it said is shown quoted, so that no control character in it reaches the terminal.
    const contentType = answer.headers.get('content-type') ?? 'no content-type';
    const start = answer.text.length > 80 ? `${answer.text.slice(0, 80)}…` : answer.text;
    throw new AdminApiError(
      `${answer.status} from ${request}, but not the admin API's JSON (${contentType}: ${JSON.stringify(start)}): is ${baseUrl} the function URL?${request.startsWith('POST') ? ' A key may have been made: list-keys shows it.' : ''}`,
    );
  }
  return parsed;
}
