import type { Middleware } from '@aws-lambda-powertools/event-handler/types';

/**
 * Headers every response starts with, errors included; a route that sets its own wins (a
 * stream's `no-cache, no-transform`, the playground's). Answers here are a user's own
 * (conversations, usage, jobs, an API key shown once): no browser or shared cache in front
 * of the function URL may keep them, and none is read as anything but its declared type.
 */
export const privateByDefault: Middleware = async ({ reqCtx, next }) => {
  reqCtx.res.headers.set('cache-control', 'no-store');
  reqCtx.res.headers.set('x-content-type-options', 'nosniff');
  await next();
};
