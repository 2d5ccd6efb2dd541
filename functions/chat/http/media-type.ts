import type { Middleware } from '@aws-lambda-powertools/event-handler/types';

/**
 * Lower-cases the request's media type (`APPLICATION/JSON; charset=utf-8` becomes
 * `application/json; charset=utf-8`): media types are case-insensitive (RFC 9110 §8.3.1),
 * and Event Handler's validation reads a body as JSON only when its content type
 * contains `application/json` as written.
 */
export const lowerCaseMediaType: Middleware = async ({ reqCtx, next }) => {
  const contentType = reqCtx.req.headers.get('content-type');
  const end = contentType?.indexOf(';') ?? -1;
  const type = contentType && (end === -1 ? contentType : contentType.slice(0, end));
  if (contentType && type && type !== type.toLowerCase()) {
    reqCtx.req.headers.set('content-type', type.toLowerCase() + contentType.slice(type.length));
  }
  await next();
};
