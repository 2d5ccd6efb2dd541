import type { Middleware } from '@aws-lambda-powertools/event-handler/types';
import { UnsupportedContentEncodingError } from '../../../shared/domain/errors.js';

/** The content codings a request body may have: none (`identity` names that). */
const ACCEPTED_CODINGS = ['identity'] as const;

/**
 * Refuses a body in a content coding (`Content-Encoding: gzip`, `br`, `deflate`…) with 415
 * and `Accept-Encoding: identity` (RFC 9110 §8.4.1), on a route that reads a body, before its
 * credential is checked or its body read: Event Handler would read the compressed bytes as
 * text, and answer 400 "must be JSON".
 */
export const identityContentOnly: Middleware = async ({ reqCtx, next }) => {
  const header = reqCtx.req.headers.get('content-encoding') ?? '';
  const encoded = header
    .split(',')
    .map((coding) => coding.trim().toLowerCase())
    .some((coding) => coding !== '' && !(ACCEPTED_CODINGS as readonly string[]).includes(coding));
  if (encoded) {
    throw new UnsupportedContentEncodingError(
      `the request body is encoded (content-encoding: ${header.slice(0, 64)}); send it unencoded, as application/json`,
      ACCEPTED_CODINGS,
    );
  }
  await next();
};
