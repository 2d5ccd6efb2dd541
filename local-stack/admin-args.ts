import { parseArgs } from 'node:util';

/** Arguments the API never sees: answered with the usage text and exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** What one admin command takes: a fixed number of positionals and some `--name value` options. */
export interface ArgumentSpec {
  positionals: number;
  options?: Record<string, { type: 'string' }>;
}

export interface ParsedArguments {
  positionals: string[];
  values: Record<string, string | undefined>;
}

/** @throws UsageError */
export function parseCommandArgs(spec: ArgumentSpec, args: readonly string[]): ParsedArguments {
  let parsed: ParsedArguments & { tokens: Array<{ kind: string; name?: string }> };
  try {
    parsed = parseArgs({
      args: [...args],
      options: spec.options ?? {},
      allowPositionals: true,
      strict: true,
      tokens: true,
    }) as typeof parsed;
  } catch (error) {
    // node:util says what is wrong: an unknown option, a missing value.
    throw new UsageError((error as Error).message);
  }
  // node:util keeps the last of an option given twice: `--models a --models b` would be b alone.
  const given = parsed.tokens.flatMap((token) => (token.kind === 'option' ? [token.name] : []));
  const twice = given.find((name, index) => given.indexOf(name) !== index);
  if (twice) throw new UsageError(`--${twice} is given more than once; give one value`);
  if (parsed.positionals.length !== spec.positionals) {
    throw new UsageError(
      `expected ${spec.positionals} argument(s), got ${parsed.positionals.length}`,
    );
  }
  // Most likely an unset shell variable (`--principal "$P"`), which must not widen the command.
  if (parsed.positionals.some(isBlank)) throw new UsageError('an argument is empty');
  const blank = Object.entries(parsed.values).find(([, value]) => isBlank(value));
  if (blank) throw new UsageError(`--${blank[0]} is empty`);
  return { positionals: parsed.positionals, values: parsed.values };
}

function isBlank(value: string | undefined): boolean {
  return value !== undefined && value.trim() === '';
}

/** Decimal only: Number() also reads `0x10` as 16 and `0b101` as 5. */
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

/** @throws UsageError when `value` is given and is not a finite decimal number */
export function numberOption(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!DECIMAL.test(value.trim()) || !Number.isFinite(number)) {
    throw new UsageError(`${name} must be a number, not ${JSON.stringify(value)}`);
  }
  return number;
}

/** @throws UsageError when `value` is given and is not a whole number */
export function integerOption(name: string, value: string | undefined): number | undefined {
  const number = numberOption(name, value);
  if (number !== undefined && !Number.isInteger(number)) {
    throw new UsageError(`${name} must be a whole number, not ${JSON.stringify(value)}`);
  }
  return number;
}
