import { invalidRequest } from './errors.js';

/** A `\uXXXX` escape of a UTF-16 surrogate, high (D800–DBFF) or low (DC00–DFFF). */
const SURROGATE_ESCAPE = /\\u[dD]([89abAB]|[c-fC-F])[0-9a-fA-F]{2}/;
const LOW_ESCAPE = /^\\u[dD][c-fC-F][0-9a-fA-F]{2}/;

/**
 * The API parses bodies strictly: a surrogate escape that is not half of a pair is not
 * valid JSON to it, as it is to `JSON.parse` (the messages are its parser's, seen in
 * its 400s: a lone high surrogate, and a low one with no high one before it).
 * @throws ApiError 400 `invalid_request_error`
 */
export function checkSurrogatePairs(rawBody: string): void {
  const escapes = new RegExp(SURROGATE_ESCAPE, 'g');
  for (let match = escapes.exec(rawBody); match; match = escapes.exec(rawBody)) {
    // An escaped backslash before it (`\\ud800`) makes it plain text, not an escape.
    if (escapedBackslashBefore(rawBody, match.index)) continue;
    const high = /[89abAB]/.test(match[1]!);
    if (!high) throw notValidJson('invalid high surrogate in string', match.index);
    if (!LOW_ESCAPE.test(rawBody.slice(match.index + 6, match.index + 12))) {
      throw notValidJson('no low surrogate in string', match.index);
    }
    // Its low half is read with it.
    escapes.lastIndex = match.index + 12;
  }
}

function escapedBackslashBefore(text: string, index: number): boolean {
  let backslashes = 0;
  for (let i = index - 1; i >= 0 && text[i] === '\\'; i--) backslashes++;
  return backslashes % 2 === 1;
}

function notValidJson(problem: string, index: number) {
  return invalidRequest(
    `The request body is not valid JSON: ${problem}: line 1 column ${index + 1} (char ${index})`,
  );
}
