import { registerHooks } from 'node:module';
import { pathToFileURL } from 'node:url';
import { TRACE_CONTEXT_ALIAS } from '../../../infra/bundling.js';

/**
 * Resolves the modules the bundles alias (infra/bundling.ts) as the bundles do, for code
 * Node loads itself, as vitest leaves dependencies: the X-Ray SDK then keeps its trace
 * context on AsyncLocalStorage, as deployed. Returns the specifiers redirected so far.
 */
export function resolveAsBundled(): readonly string[] {
  const redirected: string[] = [];
  const aliases: Record<string, string> = TRACE_CONTEXT_ALIAS;
  registerHooks({
    resolve(specifier, context, next) {
      const target = aliases[specifier];
      if (target === undefined) return next(specifier, context);
      redirected.push(specifier);
      return { url: pathToFileURL(target).href, format: 'module-typescript', shortCircuit: true };
    },
  });
  return redirected;
}
