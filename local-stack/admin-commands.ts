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
const segment = (value: string | undefined) => encodeURIComponent(value ?? '');

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
          nextCursor: string | null;
        };
        keys.push(...page.keys);
        cursor = page.nextCursor ?? undefined;
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
    io.print(JSON.stringify(result, null, 2));
    if (name === 'create-key') {
      printError('The key is shown this once: store it now, it cannot be read back.');
    }
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

function apiCaller(io: AdminCommandIo): Call {
  return async (method, path, body) => {
    const response = await io
      .fetch(`${io.baseUrl}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${io.token}`,
          ...(body !== undefined && { 'content-type': 'application/json' }),
        },
        ...(body !== undefined && { body: JSON.stringify(body) }),
      })
      .catch((error: unknown) => {
        throw new AdminApiError(
          `could not reach ${io.baseUrl} (${(error as Error).message}): is the local stack running (npm start)?`,
        );
      });
    const answer = (await response.json().catch(() => undefined)) as
      | { error?: { type?: string; message?: string } }
      | undefined;
    if (!response.ok) {
      const { type = 'error', message = 'the answer has no error message' } = answer?.error ?? {};
      throw new AdminApiError(`${response.status} ${type}: ${message}`);
    }
    return answer;
  };
}
