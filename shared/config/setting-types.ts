import * as z from '../validation/zod.js';

/**
 * The kinds of value a setting can hold. Each schema accepts the value in both forms
 * it arrives in: a string (an environment variable, or `-c key=value`) and a JSON
 * value (cdk.json). An empty string or null means "not set", so the default applies.
 */
export interface SettingType<T> {
  /** Built on first use: a function parses only the settings its environment sets. */
  readonly schema: z.ZodMiniType<T, unknown>;
  /** The default, shown in the docs; absent for an optional setting. */
  readonly defaultValue?: T;
  /** Unset is allowed, and means `undefined` (or the default, when there is one). */
  readonly allowsUnset: boolean;
  /** How the value is written into a function's environment. */
  toEnv(value: T): string;
  /** One phrase describing accepted values, for the docs. */
  readonly accepts: string;
}

/**
 * What is wrong with a value, in one line; inside a JSON setting, where (`my-model.input`):
 * modelPrices can hold dozens of numbers, and the message alone names none.
 */
export function describeIssues(issues: readonly z.core.$ZodIssue[]): string {
  return issues
    .map((issue) =>
      issue.path.length > 0 ? `${issue.message} (at ${issue.path.join('.')})` : issue.message,
    )
    .join(', ');
}

const unsetToUndefined = () =>
  z.transform((value: unknown) => (value === '' || value === null ? undefined : value));

/** `schema`, built by `makeSchema` when first read (zod schemas take ~0.2 ms each to build). */
function withLazySchema<T>(
  type: Omit<SettingType<T>, 'schema'>,
  makeSchema: () => z.ZodMiniType<T, unknown>,
): SettingType<T> {
  let schema: z.ZodMiniType<T, unknown> | undefined;
  return Object.defineProperty(type, 'schema', {
    enumerable: true,
    get: () => {
      schema ??= makeSchema();
      return schema;
    },
  }) as SettingType<T>;
}

function build<T>(
  inner: () => z.ZodMiniType<T, unknown>,
  options: { default?: T; accepts: string; toEnv?: (value: T) => string },
): SettingType<T> {
  return withLazySchema(
    {
      accepts: options.accepts,
      toEnv: options.toEnv ?? String,
      allowsUnset: options.default !== undefined,
      ...(options.default !== undefined && { defaultValue: options.default }),
    },
    () => {
      const withDefault =
        options.default === undefined
          ? inner()
          : (z._default(inner(), options.default as never) as never);
      return z.pipe(unsetToUndefined(), withDefault as never) as z.ZodMiniType<T, unknown>;
    },
  );
}

const optional = <T>(type: SettingType<T>): SettingType<T | undefined> =>
  withLazySchema<T | undefined>(
    {
      accepts: type.accepts,
      allowsUnset: true,
      toEnv: (value) => (value === undefined ? '' : type.toEnv(value)),
      ...(type.defaultValue !== undefined && { defaultValue: type.defaultValue }),
    },
    () => z.optional(type.schema) as z.ZodMiniType<T | undefined, unknown>,
  );

/** A number as a string writes it: digits, a point, an exponent; what Number() alone would also take (blanks, 0x10, Infinity) is refused. */
const NUMERAL = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

/**
 * A JSON number (cdk.json), or a string holding one (`-c`, the environment). Not
 * z.coerce: Number() reads `true` as 1, `[]` and a blank string as 0, so a mistyped
 * value would pass as a number the operator never wrote.
 */
const numeric = () =>
  z.pipe(
    z.transform((value: unknown, context) => {
      if (typeof value === 'number') return value;
      if (typeof value === 'string' && NUMERAL.test(value.trim())) return Number(value);
      context.issues.push({ code: 'custom', message: 'not a number', input: value });
      return z.NEVER;
    }),
    z.number(),
  );

interface IntOptions {
  min: number;
  max: number;
}
export function int(options: IntOptions & { default: number }): SettingType<number>;
export function int(options: IntOptions): SettingType<number | undefined>;
export function int(options: IntOptions & { default?: number }) {
  const type = build(
    () => z.pipe(numeric(), z.int().check(z.minimum(options.min), z.maximum(options.max))),
    { ...options, accepts: `an integer from ${options.min} to ${options.max}` },
  );
  return options.default === undefined ? optional(type) : type;
}

type DecimalOptions = (
  | {
      /** Exclusive lower bound. */
      above: number;
    }
  | {
      /** Inclusive lower bound. */
      min: number;
    }
) & { max?: number };
/** A decimal number greater than `above`, or at least `min`. */
export function decimal(options: DecimalOptions & { default: number }): SettingType<number>;
export function decimal(options: DecimalOptions): SettingType<number | undefined>;
export function decimal(options: DecimalOptions & { default?: number }) {
  const max = options.max ?? Number.MAX_SAFE_INTEGER;
  const lower =
    'above' in options
      ? z.gt(options.above)
      : z.gte(options.min, `must be at least ${decimalText(options.min)}`);
  const bound =
    'above' in options ? `above ${options.above}` : `of at least ${decimalText(options.min)}`;
  const type = build(() => z.pipe(numeric(), z.number().check(lower, z.lte(max))), {
    ...options,
    accepts: `a number ${bound}${options.max ? ` and at most ${max}` : ''}`,
  });
  return options.default === undefined ? optional(type) : type;
}

/** As a person writes it: 0.000000001, not 1e-9. */
const decimalText = (value: number) =>
  value.toLocaleString('en-US', { useGrouping: false, maximumFractionDigits: 20 });

interface TextOptions {
  pattern?: RegExp;
  /** What the pattern accepts, for the docs. */
  describe?: string;
}
export function text(options: TextOptions & { default: string }): SettingType<string>;
export function text(options: TextOptions & { required: true }): SettingType<string>;
export function text(options?: TextOptions): SettingType<string | undefined>;
export function text(
  options: TextOptions & { default?: string; required?: boolean } = {},
): SettingType<string | undefined> {
  const pattern = options.pattern;
  const type = build(
    () => {
      // Compared as written (an issuer, an audience, a model id): a blank at either end
      // would make every token or request miss it.
      const base = z.string().check(
        z.minLength(1),
        z.refine((value) => value.trim() === value, 'has blanks at its start or end'),
      );
      return pattern ? base.check(z.regex(pattern)) : base;
    },
    {
      ...options,
      accepts: options.describe ?? 'text',
    },
  );
  return options.default === undefined && !options.required ? optional(type) : type;
}

export function choice<const T extends string>(values: readonly [T, ...T[]], defaultValue: T) {
  return build(() => z.enum(values), {
    default: defaultValue,
    accepts: `one of ${values.join(', ')}`,
  });
}

/** One of a fixed set of numbers (CloudWatch Logs retention periods, say). */
export function numberIn(values: readonly number[], defaultValue: number) {
  return build(
    () =>
      z.pipe(
        numeric(),
        z
          .number()
          .check(
            z.refine((value) => values.includes(value), `must be one of ${values.join(', ')}`),
          ),
      ),
    { default: defaultValue, accepts: `one of ${values.join(', ')}` },
  );
}

export function flag(defaultValue: boolean) {
  return build(
    () =>
      z.union([
        z.boolean(),
        z.pipe(
          z.enum(['true', 'false']),
          z.transform((value) => value === 'true'),
        ),
      ]),
    { default: defaultValue, accepts: 'true or false' },
  );
}

export function url(options: { required: true }): SettingType<string>;
export function url(): SettingType<string | undefined>;
export function url(options: { required?: boolean } = {}): SettingType<string | undefined> {
  // z.url() alone takes any scheme: `localhost:4010` (no http://) would be a URL of scheme
  // `localhost`, and every call to it would fail.
  const type = build(
    () => z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }),
    {
      accepts: 'an http(s) URL',
    },
  );
  return options.required ? type : optional(type);
}

export function email() {
  return optional(build(() => z.email(), { accepts: 'an e-mail address' }));
}

/**
 * A list: a JSON array (cdk.json), or a string (`-c`, the environment) holding a JSON
 * array or comma-separated values.
 */
export function list(
  options: {
    item?: () => z.ZodMiniType<string, unknown>;
    describe?: string;
    default?: string[];
  } = {},
) {
  const items = () => {
    const item = options.item?.() ?? z.string().check(z.minLength(1));
    const fromString = z.transform((value: unknown, context) => {
      if (typeof value !== 'string') return value;
      if (!value.trimStart().startsWith('[')) {
        return value
          .split(',')
          .map((entry) => entry.trim())
          .filter(Boolean);
      }
      // Split at its commas, a JSON array would give `["a"` and `"b"]`.
      try {
        const parsed: unknown = JSON.parse(value);
        if (Array.isArray(parsed)) return parsed;
      } catch {}
      context.issues.push({ code: 'custom', message: 'not a valid JSON array', input: value });
      return z.NEVER;
    });
    return z.pipe(fromString, z.array(item) as never) as z.ZodMiniType<string[], unknown>;
  };
  return build(items, {
    default: options.default ?? ([] as string[]),
    accepts: options.describe ?? 'a list (JSON array or comma-separated)',
    toEnv: (values: string[]) => values.join(','),
  });
}

/** A JSON object: as an object in cdk.json, or as a JSON string. */
export function json<T>(schema: () => z.ZodMiniType<T, unknown>, defaultValue: T) {
  const parsed = () =>
    z.pipe(
      z.transform((value: unknown, context) => {
        if (typeof value !== 'string') return value;
        try {
          return JSON.parse(value) as unknown;
        } catch {
          context.issues.push({ code: 'custom', message: 'not valid JSON', input: value });
          return z.NEVER;
        }
      }),
      schema() as never,
    ) as z.ZodMiniType<T, unknown>;
  return build(parsed, {
    default: defaultValue,
    accepts: 'a JSON object',
    toEnv: (value) => JSON.stringify(value),
  });
}

export function secretArn() {
  return text({
    // Complete: a partial ARN of a name ending in a hyphen and 6 characters is read as
    // complete by Secrets Manager (and by IAM grants), so it cannot be told apart.
    pattern: /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[\w/+=.@-]+-[A-Za-z0-9]{6}$/,
    describe: "a Secrets Manager secret's complete ARN (with the 6 characters it adds to the name)",
  });
}

/** Browser origins: a scheme and a host (and port), nothing after it; or `*`. */
export const ORIGIN_PATTERN = /^(\*|https?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?)$/;
