type Schema = Record<string, unknown>;

/** Deeper schemas (or `$ref` cycles) get an empty object rather than a stack overflow. */
const MAX_DEPTH = 8;
/**
 * Values past this many are left out, but for the input's own properties (an empty object
 * where one is needed): a few properties that each refer back to their schema multiply at
 * every level (7 of them built 370 MB in a minute).
 */
const MAX_VALUES = 1_000;
const WORDS_PER_STRING = 4;

/**
 * A tool input built deterministically from the tool's JSON schema: the required
 * properties only, strings from the first words of the prompt (the property name when the
 * prompt is empty), numbers 1 (or their `minimum`), booleans true, enums and consts their
 * first value, arrays one item, objects recursively; `anyOf`/`oneOf`/`allOf` take their
 * first branch and local `$ref`s are followed.
 */
export function toolInput(
  inputSchema: unknown,
  promptWords: readonly string[],
): Record<string, unknown> {
  const root = asSchema(inputSchema);
  const text = promptWords.slice(0, WORDS_PER_STRING).join(' ');
  // A tool input is always an object, even for a server tool that has no schema.
  return objectFor(root, { root, text, name: 'value', depth: 0, built: { values: 0 } });
}

interface Context {
  root: Schema;
  text: string;
  /** The property the value is for, used when there are no prompt words. */
  name: string;
  depth: number;
  /** Values built so far, shared by the whole input. */
  built: { values: number };
}

function valueFor(schema: Schema, context: Context): unknown {
  const resolved = resolve(schema, context.root);
  if (++context.built.values > MAX_VALUES || context.depth > MAX_DEPTH) return {};
  if ('const' in resolved) return resolved.const;
  if (Array.isArray(resolved.enum) && resolved.enum.length > 0) return resolved.enum[0];
  const branch = firstBranch(resolved);
  if (branch) return valueFor(branch, { ...context, depth: context.depth + 1 });
  switch (typeOf(resolved)) {
    case 'object':
      return objectFor(resolved, context);
    case 'array':
      return [valueFor(asSchema(resolved.items), { ...context, depth: context.depth + 1 })];
    case 'integer':
    case 'number':
      return typeof resolved.minimum === 'number' ? Math.max(1, resolved.minimum) : 1;
    case 'boolean':
      return true;
    case 'null':
      return null;
    default:
      return context.text || context.name;
  }
}

function objectFor(schema: Schema, context: Context): Record<string, unknown> {
  const properties = asSchema(schema.properties);
  const required = Array.isArray(schema.required) ? schema.required : [];
  const input: Record<string, unknown> = {};
  for (const name of required) {
    // The input's own properties are always there: what a caller reads first.
    if (context.built.values >= MAX_VALUES && context.depth > 0) break;
    if (typeof name !== 'string') continue;
    input[name] = valueFor(asSchema(properties[name]), {
      ...context,
      name,
      depth: context.depth + 1,
    });
  }
  return input;
}

/** The schema's type; the first non-null one of a type list; `object` when it has properties. */
function typeOf(schema: Schema): string | undefined {
  const type = schema.type;
  if (typeof type === 'string') return type;
  if (Array.isArray(type)) return type.find((candidate) => candidate !== 'null') ?? 'null';
  return schema.properties ? 'object' : undefined;
}

function firstBranch(schema: Schema): Schema | undefined {
  for (const key of ['anyOf', 'oneOf', 'allOf']) {
    const branches = schema[key];
    if (Array.isArray(branches) && branches.length > 0) return asSchema(branches[0]);
  }
  return undefined;
}

/** Follows a local `$ref` such as `#/$defs/Address`; anything else resolves to itself. */
function resolve(schema: Schema, root: Schema): Schema {
  const ref = schema.$ref;
  if (typeof ref !== 'string' || !ref.startsWith('#/')) return schema;
  let target: unknown = root;
  for (const part of ref.slice(2).split('/')) target = asSchema(target)[part];
  return asSchema(target);
}

const asSchema = (value: unknown): Schema =>
  typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Schema) : {};
