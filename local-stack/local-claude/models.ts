/** Largest `max_tokens` each default model accepts (the models overview's "max output"). */
const MAX_OUTPUT_TOKENS: Record<string, number> = {
  'claude-opus-4-6': 128_000,
  'claude-opus-4-5': 64_000,
  'claude-opus-4-5-20251101': 64_000,
  'claude-sonnet-4-6': 64_000,
  'claude-sonnet-4-5': 64_000,
  'claude-sonnet-4-5-20250929': 64_000,
  'claude-haiku-4-5': 64_000,
  'claude-haiku-4-5-20251001': 64_000,
};

/** The model ids a local Claude accepts unless told otherwise. */
export const DEFAULT_MODELS: readonly string[] = Object.keys(MAX_OUTPUT_TOKENS);

/** The output limit of a known model; undefined (no limit enforced) for ids added by options. */
export const maxOutputTokens = (model: string): number | undefined => MAX_OUTPUT_TOKENS[model];
