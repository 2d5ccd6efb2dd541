/**
 * npm run admin -- <command>: the admin API of the running local stack (npm start), called
 * with a dev token that carries the admin claim. `npm run admin -- help` lists the commands;
 * local-stack/admin-commands.ts runs them.
 */
import { runAdminCommand } from './admin-commands.js';
import { LOCAL_STACK } from './dev-settings.js';
import { signDevToken, tokenSigningFromEnv } from './dev-token.js';
import { readStackOutputs } from './stack-outputs.js';

/**
 * Where npm start said the function URL is; its default port when it has not said (then
 * unreachable, and reported as such: bad arguments still get their usage text first).
 */
function localFunctionUrl(): string {
  const outputs = readStackOutputs();
  return outputs
    ? outputs.functionUrl.replace(/\/$/, '')
    : `http://localhost:${LOCAL_STACK.ports.functionUrl}`;
}

process.exitCode = await runAdminCommand(process.argv.slice(2), {
  baseUrl: localFunctionUrl(),
  token: await signDevToken('admin', { admin: true, expiresIn: '5m', ...tokenSigningFromEnv() }),
  fetch,
  print: (text) => console.log(text),
  printError: (text) => console.error(text),
});
