/**
 * npm run --silent token -- <userId> [--admin]: prints a bearer token for the local stack;
 * with --admin it carries the admin claim (groups: ["admin"]) the admin API asks for.
 */
import { signDevToken } from './dev-token.js';

const args = process.argv.slice(2);
const admin = args.includes('--admin');
const userId = args.find((arg) => arg !== '--admin');
if (!userId || !/^[\w.@|:+-]{1,128}$/.test(userId) || args.length > (admin ? 2 : 1)) {
  console.error(
    'usage: npm run --silent token -- <userId> [--admin]   (letters, digits and ._@|:+- only)',
  );
  process.exit(2);
}
console.log(await signDevToken(userId, { secret: process.env.JWT_SECRET, admin }));
