import type { LocalClaude, RecordedRequest } from '../../../local-stack/local-claude/index.js';

/** A request's body as JSON text, to look for a marker in ("" for a request without one). */
export const bodyText = (request: RecordedRequest): string =>
  request.body === undefined ? '' : JSON.stringify(request.body);

/** The requests the local Claude received whose body mentions `text` (a marker, a directive's key). */
export function requestsMentioning(
  claude: Pick<LocalClaude, 'requests'>,
  text: string,
): RecordedRequest[] {
  return claude.requests.filter((request) => bodyText(request).includes(text));
}

/** The requests the local Claude received on its API (`/v1/…`): not the GET that opened a connection ahead. */
export function apiRequests(claude: Pick<LocalClaude, 'requests'>): RecordedRequest[] {
  return claude.requests.filter((request) => request.path.startsWith('/v1/'));
}
