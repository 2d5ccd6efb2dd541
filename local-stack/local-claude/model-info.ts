import { maxOutputTokens } from './models.js';

/**
 * Release dates for ids without a date suffix, from the API's docs; Opus 4.7 and 4.8, whose
 * dates are not written here, get plausible ones between Opus 4.6 and the Claude 5 models, so
 * that every local model lists in the order the API lists them (newest first).
 */
const RELEASED_ON: Record<string, string> = {
  'claude-haiku-5-5': '2026-10-07',
  'claude-sonnet-5-5': '2026-09-28',
  'claude-opus-5-5': '2026-09-22',
  'claude-fable-5-1': '2026-09-01',
  'claude-opus-5': '2026-07-24',
  'claude-sonnet-5': '2026-06-30',
  'claude-fable-5': '2026-06-09',
  'claude-opus-4-8': '2026-05-27',
  'claude-opus-4-7': '2026-04-16',
  'claude-sonnet-4-6': '2026-02-17',
  'claude-opus-4-6': '2026-02-04',
};

/** The API's documented stand-in when a release date is unknown. */
const UNKNOWN_RELEASE = '1970-01-01';

const LINES = ['opus', 'sonnet', 'haiku'] as const;

/**
 * A model as GET /v1/models describes it (the fields the local Claude can know).
 * @param models every configured id: an alias takes the date of its dated variant
 */
export function modelInfo(id: string, models: Iterable<string>) {
  return {
    type: 'model',
    id,
    display_name: displayName(id),
    created_at: `${releaseDate(id, models)}T00:00:00Z`,
    capabilities: null,
    deprecated_at: null,
    lifecycle: 'active',
    line: LINES.find((line) => id.includes(line)) ?? null,
    max_input_tokens: null,
    max_tokens: maxOutputTokens(id) ?? null,
    retires_at: null,
  };
}

/**
 * The date in the id (`…-20250929`), else the date of a configured dated variant
 * (`claude-haiku-4-5` → `claude-haiku-4-5-20251001`), else the docs' date, else the epoch,
 * as the API does for unknown dates.
 */
function releaseDate(id: string, models: Iterable<string>): string {
  const dated = [id, ...models].find(
    (candidate) => (candidate === id || candidate.startsWith(`${id}-`)) && DATE.test(candidate),
  );
  const date = dated === undefined ? undefined : DATE.exec(dated);
  if (date) return `${date[1]}-${date[2]}-${date[3]}`;
  return RELEASED_ON[id] ?? UNKNOWN_RELEASE;
}

const DATE = /-(\d{4})(\d{2})(\d{2})$/;

/** `claude-sonnet-4-5-20250929` → `Claude Sonnet 4.5`; `claude-3-5-haiku` → `Claude 3.5 Haiku`. */
export function displayName(id: string): string {
  const parts = id.replace(/-\d{8}$/, '').split('-');
  const words: string[] = [];
  for (const part of parts) {
    const previous = words.at(-1);
    if (/^\d+$/.test(part) && previous !== undefined && /^\d+(\.\d+)*$/.test(previous)) {
      words[words.length - 1] = `${previous}.${part}`;
    } else {
      words.push(part.charAt(0).toUpperCase() + part.slice(1));
    }
  }
  return words.join(' ');
}
