import { cutText } from './cut-text.js';

/** The longest id any route takes (a job's or a `useChat` chat's): every id that can exist is named whole. */
export const NAMED_ID_CHARS = 128;

/**
 * An id or model a caller sent, as an error message names it: a longer one (a path segment
 * of 5,000 characters) is cut between graphemes, `…` marking the cut, so the message stays
 * short and still names the id's start.
 */
export function namedId(id: string): string {
  return cutText(id, NAMED_ID_CHARS);
}

/** {@link namedId} as a JSON string: quoted, its quotes and control characters escaped. */
export function quoted(id: string): string {
  return JSON.stringify(namedId(id));
}
