import type { Middleware } from '@aws-lambda-powertools/event-handler/types';

/**
 * Holds a request until `loading` has settled: the first requests of a new execution
 * environment wait for the adapters still loading in the background; later ones pass at
 * once. A failed load fails the request (500, logged by the error handler).
 */
export function afterLoading(loading: Promise<unknown>): Middleware {
  let loaded = false;
  return async ({ next }) => {
    if (!loaded) {
      await loading;
      loaded = true;
    }
    await next();
  };
}
