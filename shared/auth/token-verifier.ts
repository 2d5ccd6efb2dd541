import { createRemoteJWKSet, type JWTVerifyGetKey, jwtVerify } from 'jose';
import { AuthenticationError } from '../domain/errors.js';

export interface Principal {
  userId: string;
}

/** Verifies a bearer token and names the caller (the `sub` claim). */
export interface TokenVerifier {
  verify(authorization: string | undefined): Promise<Principal>;
}

export interface Hs256VerifierOptions {
  /** The signing secret; called per request, so a cached secret provider can rotate. */
  secret: () => Promise<string>;
  issuer?: string;
  audience?: string;
}

export function hs256Verifier(options: Hs256VerifierOptions): TokenVerifier {
  const encoder = new TextEncoder();
  return {
    verify: (authorization) =>
      verifyWith(authorization, async (token) =>
        jwtVerify(token, encoder.encode(await options.secret()), {
          algorithms: ['HS256'],
          ...(options.issuer && { issuer: options.issuer }),
          ...(options.audience && { audience: options.audience }),
        }),
      ),
  };
}

export interface OidcVerifierOptions {
  issuer: string;
  audience: string;
  /** @default `${issuer}/.well-known/jwks.json` */
  jwksUrl?: string;
}

export function oidcVerifier(options: OidcVerifierOptions): TokenVerifier {
  const keySet: JWTVerifyGetKey = createRemoteJWKSet(
    new URL(options.jwksUrl ?? `${options.issuer.replace(/\/$/, '')}/.well-known/jwks.json`),
  );
  return {
    verify: (authorization) =>
      verifyWith(authorization, (token) =>
        jwtVerify(token, keySet, {
          issuer: options.issuer,
          audience: options.audience,
          algorithms: ['RS256', 'RS384', 'RS512', 'ES256', 'ES384', 'PS256'],
        }),
      ),
  };
}

async function verifyWith(
  authorization: string | undefined,
  verify: (token: string) => Promise<{ payload: { sub?: string } }>,
): Promise<Principal> {
  const token = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '')?.[1];
  if (!token) {
    throw new AuthenticationError('send a bearer token: Authorization: Bearer <jwt>', 'missing');
  }
  let payload: { sub?: string };
  try {
    ({ payload } = await verify(token));
  } catch (error) {
    throw new AuthenticationError('the bearer token is not valid', 'invalid', { cause: error });
  }
  if (!payload.sub || !/^[\w.@|:+-]{1,128}$/.test(payload.sub)) {
    throw new AuthenticationError('the bearer token has no usable sub claim', 'invalid');
  }
  return { userId: payload.sub };
}
