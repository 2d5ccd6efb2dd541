/**
 * What browsers may send to the function URL and read back: one definition for the
 * stack's function URL and the local one. The Anthropic SDK's own headers are listed so
 * a browser app (`dangerouslyAllowBrowser`) can call /v1/messages. The methods are all six a
 * function URL's CORS can name (its limit is six); every GET route answers HEAD too.
 */
export const CORS_ALLOWED_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

export function corsAllowedHeaders(tokenHeader: string): string[] {
  return [
    ...new Set([
      'authorization',
      tokenHeader.toLowerCase(),
      'content-type',
      'cache-control',
      // Where a resumed stream goes on from (GET /v1/conversations/{id}/stream); fetch-based
      // SSE clients send it on reconnect, and it is not CORS-safelisted.
      'last-event-id',
      // What makes POST /v1/admin/keys safe to send again (an admin console in a browser).
      'idempotency-key',
      'x-api-key',
      // The SDKs set it (`ai-sdk/anthropic/… runtime/browser`); Firefox sends what a script
      // sets, so asks for it in the preflight, and refuses the call when it is not allowed.
      'user-agent',
      'anthropic-version',
      'anthropic-beta',
      'anthropic-dangerous-direct-browser-access',
      'x-stainless-arch',
      'x-stainless-lang',
      'x-stainless-os',
      'x-stainless-package-version',
      'x-stainless-retry-count',
      'x-stainless-runtime',
      'x-stainless-runtime-version',
      'x-stainless-timeout',
      'x-stainless-helper',
      'x-stainless-helper-method',
    ]),
  ];
}

/**
 * What a browser app may read of a response; the rest it hides. The Anthropic SDK reads
 * `x-should-retry` over its own retry rules (an upstream's `false` on a 529 stops its retries).
 */
export const CORS_EXPOSED_HEADERS = [
  'retry-after',
  'x-should-retry',
  'x-request-id',
  'request-id',
  'x-upstream-request-id',
  'x-cache',
  // A key creation sent again answered with the key it made then.
  'idempotent-replayed',
  'anthropic-ratelimit-requests-limit',
  'anthropic-ratelimit-requests-remaining',
  'anthropic-ratelimit-requests-reset',
  'anthropic-ratelimit-tokens-limit',
  'anthropic-ratelimit-tokens-remaining',
  'anthropic-ratelimit-tokens-reset',
];
