import {
  createLocalJWKSet,
  createRemoteJWKSet,
  type ExportedJWKSCache,
  errors,
  type JWKSCacheInput,
  type JWTVerifyGetKey,
  jwksCache,
} from 'jose';
import { KeySetUnavailableError } from './key-set-unavailable-error.js';

/**
 * How long past its read the last key set read is still used while the issuer's JWKS cannot
 * be read (stale-if-error). Issuers publish a key well before they sign with it and keep it
 * published long after, so a set a day old still holds the keys current tokens are signed with.
 */
export const STALE_KEY_SET_MAX_AGE_MS = 24 * 60 * 60 * 1000;

/**
 * After a failed read of the JWKS, how long no new one starts: meanwhile a token is checked
 * against the key set held, or answered 503 at once when there is none (rather than each
 * request waiting up to jose's 5 s timeout on an issuer that is down).
 */
export const FAILED_READ_BACKOFF_MS = 5_000;

/** Where an issuer publishes its keys: `jwksUrl`, or `<issuer>/.well-known/jwks.json`. */
export function issuerKeySetUrl(options: { issuer: string; jwksUrl?: string }): URL {
  return new URL(options.jwksUrl ?? `${options.issuer.replace(/\/$/, '')}/.well-known/jwks.json`);
}

/** A key set to verify tokens against, which can be read before the first token comes. */
export type IssuerKeySet = JWTVerifyGetKey & {
  /**
   * Reads the set now, in the background: a new instance's first token then waits on no
   * read behind its request. A token checked meanwhile shares this read (and fails as it
   * fails); one checked after a read ahead that failed reads again. Settles, never rejects.
   */
  readAhead(): Promise<void>;
};

export interface IssuerKeySetOptions {
  /**
   * Told when a read of the key set fails and the set read before is used instead: the issuer's
   * failure, hidden from callers until the set held is a day old.
   */
  onStaleKeySet?: (stale: { error: unknown; readAt: Date }) => void;
}

/**
 * An OIDC issuer's key set, read through jose's remote key set (kept 10 minutes, one read
 * shared by concurrent requests, an unknown kid re-reading it at most every 30 s). When a
 * read fails, the last set read is used up to {@link STALE_KEY_SET_MAX_AGE_MS} past its read,
 * and read again at most every {@link FAILED_READ_BACKOFF_MS}, off the path of the tokens it
 * verifies; with no such set it throws {@link KeySetUnavailableError}, as it does for a token whose
 * kid the set held lacks (a key rotated in since). A token whose key is not in a set just read
 * throws jose's JWKSNoMatchingKey: its fault; a token without kid that several keys of a set
 * read or held fit, JWKSMultipleMatchingKeys, whose keys the verifier tries.
 */
export function issuerKeySet(url: URL, options: IssuerKeySetOptions = {}): IssuerKeySet {
  // jose writes here each set it reads and when: the one kept for when a read fails.
  const lastRead: Partial<ExportedJWKSCache> = {};
  const remote = createRemoteJWKSet(url, { [jwksCache]: lastRead as JWKSCacheInput });
  let imported: { readAtMs: number; keySet: LocalKeySet } | undefined;
  const heldKeySet = (): LocalKeySet | undefined => {
    const { uat, jwks } = lastRead;
    if (uat === undefined || !jwks || Date.now() - uat > STALE_KEY_SET_MAX_AGE_MS) return;
    if (imported?.readAtMs !== uat) imported = { readAtMs: uat, keySet: createLocalJWKSet(jwks) };
    return imported.keySet;
  };
  let failedRead: { atMs: number; error: unknown } | undefined;
  const readFailed = (error: unknown) => {
    if (failedRead?.error === error) return; // one read, shared by the requests that waited on it
    failedRead = { atMs: Date.now(), error };
    if (heldKeySet()) options.onStaleKeySet?.({ error, readAt: new Date(lastRead.uat!) });
  };

  const getKey: JWTVerifyGetKey = async (header, token) => {
    const failure = failedRead;
    const pausing = failure !== undefined && Date.now() - failure.atMs < FAILED_READ_BACKOFF_MS;
    const held = failure && heldKeySet();
    if (held) {
      // The issuer failing, a token of a key held waits for no read (an issuer that hangs would
      // hold it up to jose's 5 s timeout): the set is read again off the request's path (on
      // Lambda a read frozen with the instance ends, or times out, in a later invocation).
      if (!pausing && !remote.reloading) {
        void remote.reload().then(() => {
          failedRead = undefined;
        }, readFailed);
      }
      try {
        return await held(header, token);
      } catch (error) {
        // Several keys held that fit a token without kid are each tried by the verifier: no
        // read could do better, and one would hold it up as long as the issuer hangs.
        const kidMissing = error instanceof errors.JWKSNoMatchingKey;
        if (pausing || !kidMissing) throw heldSetRefusal(error, failure.error);
      }
      // A kid the set held lacks waits for the read: a key the issuer rotated in meanwhile.
    } else if (pausing) {
      throw refusal(failure.error);
    }
    try {
      const key = await remote(header, token);
      failedRead = undefined;
      return key;
    } catch (error) {
      if (isTokenKeyMissing(error)) throw error;
      readFailed(error);
      const keySet = heldKeySet();
      if (!keySet) throw refusal(error);
      return keySet(header, token).catch((heldError: unknown) => {
        throw heldSetRefusal(heldError, error);
      });
    }
  };
  return Object.assign(getKey, { readAhead: () => remote.reload().catch(() => {}) });
}

type LocalKeySet = ReturnType<typeof createLocalJWKSet>;

/** The token's fault when its key is not in the set, else the issuer's. */
function refusal(error: unknown): Error {
  if (error instanceof errors.JWKSNoMatchingKey) return error;
  if (error instanceof errors.JWKSMultipleMatchingKeys) return error;
  return new KeySetUnavailableError(`the token issuer's key set could not be used`, {
    cause: error,
  });
}

/**
 * A set that could not be read again lacking the token's kid is the issuer's failure too: the
 * kid may be a key it rotated in since (a 401 would have the client drop a good token).
 */
function heldSetRefusal(error: unknown, readError: unknown): Error {
  return error instanceof errors.JWKSNoMatchingKey ? refusal(readError) : refusal(error);
}

/** Only a key set without (or with several of) the token's kid and alg is the token's fault. */
function isTokenKeyMissing(error: unknown): boolean {
  return (
    error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys
  );
}
