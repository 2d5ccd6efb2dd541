import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import {
  CORS_ALLOWED_METHODS,
  CORS_EXPOSED_HEADERS,
  corsAllowedHeaders,
} from '../../shared/http/function-url-cors.js';

/** A function URL's CORS configuration (the `Cors` type of the Lambda API). */
export interface FunctionUrlCors {
  /** Exact origins such as `http://localhost:5173`, or `*`. */
  allowOrigins: string[];
  /** @default none */
  allowMethods?: string[];
  /** @default none */
  allowHeaders?: string[];
  /** Response headers a browser script may read. @default none */
  exposeHeaders?: string[];
  /** How long browsers may cache a preflight. @default 0 (not cached) */
  maxAgeSeconds?: number;
  /** @default false */
  allowCredentials?: boolean;
}

/** The CORS the stack gives the function URL for these origins (infra/constructs/chat-api.ts). */
export function productCors(allowOrigins: string[], tokenHeader: string): FunctionUrlCors {
  return {
    allowOrigins,
    allowMethods: [...CORS_ALLOWED_METHODS],
    allowHeaders: corsAllowedHeaders(tokenHeader),
    exposeHeaders: CORS_EXPOSED_HEADERS,
    maxAgeSeconds: 3600,
  };
}

/** A browser's preflight: OPTIONS with an Origin and Access-Control-Request-Method. */
export function isPreflight(method: string, headers: IncomingHttpHeaders): boolean {
  return (
    method === 'OPTIONS' &&
    typeof headers.origin === 'string' &&
    typeof headers['access-control-request-method'] === 'string'
  );
}

/**
 * The headers a function URL with CORS configured answers a preflight with, without
 * invoking the function. An origin outside `allowOrigins` gets none, so the browser refuses.
 */
export function preflightHeaders(cors: FunctionUrlCors, origin: string): OutgoingHttpHeaders {
  if (!isAllowedOrigin(cors, origin)) return {};
  return {
    ...originHeaders(cors, origin),
    ...(cors.allowMethods?.length && {
      'access-control-allow-methods': cors.allowMethods.join(','),
    }),
    ...(cors.allowHeaders?.length && {
      'access-control-allow-headers': cors.allowHeaders.join(','),
    }),
    ...(cors.maxAgeSeconds && { 'access-control-max-age': String(cors.maxAgeSeconds) }),
  };
}

/**
 * The CORS headers added to an actual response for an allowed origin. They replace any
 * the function set itself, as the function URL's configuration takes precedence.
 */
export function responseCorsHeaders(
  cors: FunctionUrlCors,
  origin: string | undefined,
): OutgoingHttpHeaders {
  if (origin === undefined || !isAllowedOrigin(cors, origin)) return {};
  return {
    ...originHeaders(cors, origin),
    ...(cors.exposeHeaders?.length && {
      'access-control-expose-headers': cors.exposeHeaders.join(','),
    }),
  };
}

function isAllowedOrigin(cors: FunctionUrlCors, origin: string): boolean {
  return cors.allowOrigins.some(
    (allowed) => allowed === '*' || allowed.toLowerCase() === origin.toLowerCase(),
  );
}

function originHeaders(cors: FunctionUrlCors, origin: string): OutgoingHttpHeaders {
  // A wildcard cannot be combined with credentials, so echo the origin in that case.
  const wildcard = cors.allowOrigins.includes('*') && !cors.allowCredentials;
  return {
    'access-control-allow-origin': wildcard ? '*' : origin,
    ...(cors.allowCredentials && { 'access-control-allow-credentials': 'true' }),
    ...(!wildcard && { vary: 'Origin' }),
  };
}
