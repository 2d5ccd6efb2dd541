import type { Middleware } from '@aws-lambda-powertools/event-handler/types';
import type { CredentialVerifier } from '../../../shared/auth/credentials.js';
import type { Principal } from '../../../shared/auth/token-verifier.js';
import { PermissionError } from '../../../shared/domain/errors.js';
import type { ChatRequestContext } from './chat-router.js';
import { adminIamPrincipal } from './iam-admins.js';

export interface AuthenticationOptions {
  /** The (lower-case) header carrying `Bearer <credential>`. */
  tokenHeader: string;
  /** IAM principals (SigV4 callers of an AWS_IAM function URL) that are admins. */
  adminIamPrincipals: readonly string[];
}

/**
 * Names the caller before the route runs, from its API key or token; the route then
 * reads the principal from the request store. An admin IAM caller of an AWS_IAM function
 * URL needs no token. Registered on every route not marked public.
 */
export function authenticate(
  verifier: CredentialVerifier,
  options: AuthenticationOptions,
): Middleware {
  return async ({ reqCtx, next }) => {
    const ctx = reqCtx as ChatRequestContext;
    const headers = ctx.req.headers;
    const apiKey = headers.get('x-api-key') ?? undefined;
    const authorization = headers.get(options.tokenHeader) ?? undefined;
    const iamAdmin = adminIamPrincipal(ctx.event, options.adminIamPrincipals);
    const principal: Principal =
      iamAdmin && !apiKey && !authorization
        ? { userId: iamAdmin, admin: true }
        : await verifier.verify({
            ...(apiKey !== undefined && { apiKey }),
            ...(authorization !== undefined && { authorization }),
          });
    ctx.set('principal', principal);
    ctx.get('scope')?.logger.appendPersistentKeys({
      userId: principal.userId,
      ...(principal.apiKey && { apiKeyId: principal.apiKey.id }),
    });
    await next();
  };
}

/** After `authenticate`: only an admin may pass. */
export const requireAdmin: Middleware = async ({ reqCtx, next }) => {
  const principal = (reqCtx as ChatRequestContext).get('principal');
  if (!principal?.admin) {
    throw new PermissionError(
      principal?.apiKey
        ? 'API keys cannot use the admin API; use a token that carries the admin claim'
        : 'the admin API needs a token that carries the admin claim',
    );
  }
  await next();
};
