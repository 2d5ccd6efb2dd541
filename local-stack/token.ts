/**
 * npm run --silent token -- <userId> [--admin]: prints a bearer token for the local stack;
 * with --admin it carries the admin claim (groups: ["admin"]) the admin API asks for.
 * JWT_SECRET signs it for a deployment, with JWT_ISSUER and JWT_AUDIENCE when it sets them.
 */
import { IAM_USER_ID_PREFIX, isUserId } from '../shared/auth/user-id.js';
import { signDevToken, tokenSigningFromEnv } from './dev-token.js';

const args = process.argv.slice(2);
const admin = args.includes('--admin');
const userId = args.find((arg) => arg !== '--admin');
if (
  !userId ||
  !isUserId(userId) ||
  userId.startsWith(IAM_USER_ID_PREFIX) ||
  args.length > (admin ? 2 : 1)
) {
  console.error(
    `usage: npm run --silent token -- <userId> [--admin]   (letters, digits and ._@|:+- only, not starting with ${IAM_USER_ID_PREFIX})`,
  );
  process.exit(2);
}
console.log(await signDevToken(userId, { admin, ...tokenSigningFromEnv() }));
