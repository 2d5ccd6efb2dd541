import { HttpVerbs } from '@aws-lambda-powertools/event-handler/http';

/**
 * Whether the request is a HEAD, which every GET route answers as its GET, status and headers,
 * without the body (RFC 9110 §9.3.2): health and link checkers send it.
 */
export function isHead(request: Request): boolean {
  return request.method === HttpVerbs.HEAD;
}

/**
 * `response`'s status and headers without its body, which is cancelled unread. The function
 * sends the empty body itself: a function URL's front end is not documented to drop it.
 */
export function withoutBody(response: Response): Response {
  void response.body?.cancel();
  return new Response(null, {
    status: response.status,
    statusText: response.statusText,
    headers: response.headers,
  });
}
