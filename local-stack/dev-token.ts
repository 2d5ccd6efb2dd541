import { SignJWT } from 'jose';
import { LOCAL_STACK } from './dev-settings.js';

/**
 * How the shell's functions check tokens: `JWT_SECRET`, and `JWT_ISSUER` and `JWT_AUDIENCE`
 * when set (the local stack reads them from the shell, as a deployment from its settings).
 */
export function tokenSigningFromEnv(env: NodeJS.ProcessEnv = process.env) {
  const { JWT_SECRET, JWT_ISSUER, JWT_AUDIENCE } = env;
  return {
    ...(JWT_SECRET && { secret: JWT_SECRET }),
    ...(JWT_ISSUER && { issuer: JWT_ISSUER }),
    ...(JWT_AUDIENCE && { audience: JWT_AUDIENCE }),
  };
}

/**
 * A bearer token for `userId`, signed with the local stack's dev secret (or `secret`),
 * with the `iss` and `aud` a deployment that sets jwtIssuer and jwtAudience checks.
 */
export function signDevToken(
  userId: string,
  options: {
    secret?: string;
    expiresIn?: string;
    admin?: boolean;
    issuer?: string;
    audience?: string;
  } = {},
): Promise<string> {
  // The default adminClaim setting: groups=admin.
  const token = new SignJWT(options.admin ? { groups: ['admin'] } : {});
  if (options.issuer) token.setIssuer(options.issuer);
  if (options.audience) token.setAudience(options.audience);
  return token
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(userId)
    .setIssuedAt()
    .setExpirationTime(options.expiresIn ?? '12h')
    .sign(new TextEncoder().encode(options.secret ?? LOCAL_STACK.jwtSecret));
}
