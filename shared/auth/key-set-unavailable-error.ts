/**
 * An OIDC issuer's key set could not be had or used: unreachable, too slow, answering other
 * than 200 OK or other than a key set, or holding a key that cannot be imported. The issuer's
 * failure, not the token's: answered 503 and retried, never a 401 that has the client drop a
 * good token, nor a 500.
 */
export class KeySetUnavailableError extends Error {
  override readonly name = 'KeySetUnavailableError';
}
