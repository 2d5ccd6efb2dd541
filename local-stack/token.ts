/** npm run --silent token -- <userId>: prints a bearer token for the local stack. */
import { signDevToken } from './dev-token.js';

const userId = process.argv[2];
if (!userId || !/^[\w.@|:+-]{1,128}$/.test(userId)) {
  console.error('usage: npm run --silent token -- <userId>   (letters, digits and ._@|:+- only)');
  process.exit(2);
}
console.log(await signDevToken(userId, { secret: process.env.JWT_SECRET }));
