import { SignJWT } from 'jose';
import { LOCAL_STACK } from './dev-settings.js';

/** A bearer token for `userId`, signed with the local stack's dev secret. */
export function signDevToken(
  userId: string,
  options: { secret?: string; expiresIn?: string } = {},
): Promise<string> {
  return new SignJWT({})
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(userId)
    .setIssuedAt()
    .setExpirationTime(options.expiresIn ?? '12h')
    .sign(new TextEncoder().encode(options.secret ?? LOCAL_STACK.jwtSecret));
}
