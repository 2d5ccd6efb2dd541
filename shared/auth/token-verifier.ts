import { webcrypto } from 'node:crypto';
import {
  errors,
  type JWTPayload,
  type JWTVerifyGetKey,
  type JWTVerifyOptions,
  jwtVerify,
} from 'jose';
import type { ApiKeyGrant } from '../domain/api-key.js';
import { AuthenticationError } from '../domain/errors.js';
import { IAM_USER_ID_PREFIX, isUserId } from './user-id.js';

/** Who is calling: a user (or team), through a token or one of its API keys. */
export interface Principal {
  userId: string;
  /** May use the admin API (a token carrying the admin claim, or an admin IAM principal). */
  admin?: boolean;
  /** The API key the call came with: its own limits apply on top of the user's. */
  apiKey?: ApiKeyGrant;
}

/** Verifies a bearer token and names the caller (the `sub` claim). */
export interface TokenVerifier {
  verify(authorization: string | undefined): Promise<Principal>;
}

/** What every token must have, however it is signed. */
interface TokenRules {
  /**
   * Longest lifetime accepted: `exp` minus `iat`, or minus now plus the clock tolerance
   * without `iat` or when it is later.
   */
  maxLifetimeSeconds: number;
  /**
   * How far the issuer's clock may be from ours: a token is taken this long before its `nbf`
   * and after its `exp`, so a token used the moment it is issued is not refused as not yet valid.
   * @default 0
   */
  clockToleranceSeconds?: number;
  /** The claim that makes a caller an admin: equal to `value`, or a list holding it. */
  adminClaim?: { name: string; value: string };
}

export interface Hs256VerifierOptions extends TokenRules {
  /** The signing secret; called per request, so a cached secret provider can rotate. */
  secret: () => Promise<string>;
  issuer?: string;
  audience?: string;
}

export function hs256Verifier(options: Hs256VerifierOptions): TokenVerifier {
  // jose imports a raw secret anew on every verify: the imported key is kept until it rotates.
  let imported: { secret: string; key: Promise<webcrypto.CryptoKey> } | undefined;
  const keyOf = (secret: string) => {
    if (imported?.secret !== secret) {
      const raw = new TextEncoder().encode(secret);
      const hmac = { name: 'HMAC', hash: 'SHA-256' };
      imported = { secret, key: webcrypto.subtle.importKey('raw', raw, hmac, false, ['verify']) };
    }
    return imported.key;
  };
  return {
    verify: (authorization) =>
      verifyWith(authorization, options, async (token) =>
        jwtVerify(token, await keyOf(await options.secret()), {
          algorithms: ['HS256'],
          requiredClaims: REQUIRED_CLAIMS,
          clockTolerance: options.clockToleranceSeconds ?? 0,
          ...(options.issuer && { issuer: options.issuer }),
          ...(options.audience && { audience: options.audience }),
        }),
      ),
  };
}

export interface OidcVerifierOptions extends TokenRules {
  issuer: string;
  audience: string;
  /** The issuer's keys (see issuerKeySet). */
  keySet: JWTVerifyGetKey;
}

export function oidcVerifier(options: OidcVerifierOptions): TokenVerifier {
  const { keySet } = options;
  const verifyOptions: JWTVerifyOptions = {
    requiredClaims: REQUIRED_CLAIMS,
    clockTolerance: options.clockToleranceSeconds ?? 0,
    issuer: options.issuer,
    audience: options.audience,
    algorithms: ['RS256', 'RS384', 'RS512', 'ES256', 'ES384', 'PS256'],
  };
  return {
    verify: (authorization) =>
      verifyWith(authorization, options, (token) =>
        jwtVerify(token, keySet, verifyOptions).catch((error: unknown) => {
          if (!(error instanceof errors.JWKSMultipleMatchingKeys)) throw error;
          return verifyWithEachKey(token, error, verifyOptions);
        }),
      ),
  };
}

/**
 * A token without `kid` matches every key of its algorithm, and an issuer that names no kid
 * publishes two while it rotates: each is tried, as jose documents; only a signature none of
 * them verifies is refused.
 */
async function verifyWithEachKey(
  token: string,
  candidates: errors.JWKSMultipleMatchingKeys,
  options: JWTVerifyOptions,
): Promise<{ payload: JWTPayload }> {
  for await (const key of candidates) {
    try {
      return await jwtVerify(token, key, options);
    } catch (error) {
      if (!(error instanceof errors.JWSSignatureVerificationFailed)) throw error;
    }
  }
  throw new errors.JWSSignatureVerificationFailed();
}

const REQUIRED_CLAIMS = ['sub', 'exp'];

async function verifyWith(
  authorization: string | undefined,
  rules: TokenRules,
  verify: (token: string) => Promise<{ payload: JWTPayload }>,
): Promise<Principal> {
  const token = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '')?.[1];
  if (!token) {
    throw new AuthenticationError('send a bearer token: Authorization: Bearer <jwt>', 'missing');
  }
  let payload: JWTPayload;
  try {
    ({ payload } = await verify(token));
  } catch (error) {
    // Not the token's fault: its key could not be had (the secret, the issuer's JWKS). A 401
    // would tell clients to drop a good token; the error handler answers 503 to a throttle.
    if (!(error instanceof errors.JOSEError)) throw error;
    // jose says which check failed ("exp" claim timestamp check failed, a missing claim…).
    throw new AuthenticationError(`the bearer token is not valid: ${error.message}`, 'invalid', {
      cause: error,
    });
  }
  // A claim of another type is refused, never coerced: ["bob"] must not become "bob".
  const { sub, exp, iat } = payload as Record<string, unknown>;
  if (typeof sub !== 'string' || !isUserId(sub) || sub.startsWith(IAM_USER_ID_PREFIX)) {
    throw new AuthenticationError('the bearer token has no usable sub claim', 'invalid');
  }
  // From now when iat is later (or missing): an iat in the future must not stretch the cap,
  // but one as far ahead as the issuer's clock may be is its clock, not a stretch.
  const latestSeconds = Date.now() / 1000 + (rules.clockToleranceSeconds ?? 0);
  const issuedAt = typeof iat === 'number' ? Math.min(iat, latestSeconds) : latestSeconds;
  if (typeof exp !== 'number' || exp - issuedAt > rules.maxLifetimeSeconds) {
    throw new AuthenticationError(
      `the bearer token lives longer than ${rules.maxLifetimeSeconds} seconds`,
      'invalid',
    );
  }
  return { userId: sub, ...(hasAdminClaim(payload, rules.adminClaim) && { admin: true }) };
}

/** A claim of another type (a number, an object) never makes an admin. */
function hasAdminClaim(payload: JWTPayload, claim: TokenRules['adminClaim']): boolean {
  if (!claim) return false;
  const value = (payload as Record<string, unknown>)[claim.name];
  return value === claim.value || (Array.isArray(value) && value.includes(claim.value));
}
