import type { Middleware } from '@aws-lambda-powertools/event-handler/types';
import type { TokenVerifier } from '../../../shared/auth/token-verifier.js';
import type { ChatRequestContext } from './chat-router.js';

/**
 * Verifies the caller's bearer token before the route runs; the route then reads the
 * principal from the request store. Registered on every route not marked public.
 */
export function authenticate(verifier: TokenVerifier, tokenHeader: string): Middleware {
  return async ({ reqCtx, next }) => {
    const ctx = reqCtx as ChatRequestContext;
    const principal = await verifier.verify(ctx.req.headers.get(tokenHeader) ?? undefined);
    ctx.set('principal', principal);
    ctx.get('scope')?.logger.appendPersistentKeys({ userId: principal.userId });
    await next();
  };
}
