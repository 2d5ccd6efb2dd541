import { SignJWT } from 'jose';
import { LOCAL_STACK } from './dev-settings.js';

/** A bearer token for `userId`, signed with the local stack's dev secret. */
export function signDevToken(
  userId: string,
  options: { secret?: string; expiresIn?: string; admin?: boolean } = {},
): Promise<string> {
  // The default adminClaim setting: groups=admin.
  return new SignJWT(options.admin ? { groups: ['admin'] } : {})
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(userId)
    .setIssuedAt()
    .setExpirationTime(options.expiresIn ?? '12h')
    .sign(new TextEncoder().encode(options.secret ?? LOCAL_STACK.jwtSecret));
}
