import { HttpVerbs } from '@aws-lambda-powertools/event-handler/http';
import type {
  HttpMethod,
  Middleware,
  RouteHandler,
} from '@aws-lambda-powertools/event-handler/types';
import type { Principal } from '../../../shared/auth/token-verifier.js';
import { MethodNotAllowedError } from '../../../shared/domain/errors.js';
import type * as z from '../../../shared/validation/zod.js';
import type { ChatRequestContext, ChatRouter, RequestScope } from './chat-router.js';

/** What a route's handler gets: the validated request, the caller and the request scope. */
export interface RouteInput<Body, Query> {
  request: Request;
  /** Path parameters, decoded. */
  params: Record<string, string>;
  body: Body;
  query: Query;
  principal: Principal;
  scope: RequestScope;
}

export interface RouteDefinition<Body = undefined, Query = undefined> {
  method: HttpMethod;
  /** Event Handler syntax: `/v1/conversations/:id`. */
  path: `/${string}`;
  /**
   * `public`: anyone; `user` (the default): a caller with a valid token or API key;
   * `admin`: a caller with the admin claim (or an admin IAM principal), never an API key.
   */
  access?: 'public' | 'user' | 'admin';
  /** Validated by Event Handler before the handler runs (400 otherwise). */
  body?: z.ZodMiniType<Body, unknown>;
  query?: z.ZodMiniType<Query, unknown>;
  handle(input: RouteInput<Body, Query>): Promise<Response>;
}

/** Declares a route; its types follow from its schemas. */
export function defineRoute<Body = undefined, Query = undefined>(
  route: RouteDefinition<Body, Query>,
): RouteDefinition<Body, Query> {
  return route;
}

const ANONYMOUS: Principal = { userId: 'anonymous' };

/**
 * Registers the routes on the router: each behind `authenticate` unless public, with
 * Event Handler validating its body and query. Event Handler answers a known path's
 * other methods with 404, so each is registered here to answer 405 with `Allow`
 * (OPTIONS: 204 with `Allow`).
 */
export function registerRoutes(
  app: ChatRouter,
  // biome-ignore lint/suspicious/noExplicitAny: each route keeps its own body and query types
  routes: ReadonlyArray<RouteDefinition<any, any>>,
  hooks: { authenticate: Middleware; requireAdmin: Middleware },
): void {
  for (const route of routes) {
    const schemas = {
      ...(route.body && { body: route.body }),
      ...(route.query && { query: route.query }),
    };
    const handler = (reqCtx: ChatRequestContext & { valid?: { req?: Record<string, unknown> } }) =>
      route.handle({
        request: reqCtx.req,
        params: reqCtx.params,
        body: reqCtx.valid?.req?.body,
        query: reqCtx.valid?.req?.query,
        principal: reqCtx.get('principal') ?? ANONYMOUS,
        scope: reqCtx.get('scope')!,
      });
    const options = {
      method: route.method,
      path: route.path,
      middleware:
        route.access === 'public'
          ? []
          : route.access === 'admin'
            ? [hooks.authenticate, hooks.requireAdmin]
            : [hooks.authenticate],
    };
    if (Object.keys(schemas).length > 0) {
      app.route(handler as RouteHandler, { ...options, validation: { req: schemas as never } });
    } else {
      app.route(handler as RouteHandler, options);
    }
  }
  for (const [path, allowed] of methodsByPath(routes)) {
    const others = Object.values(HttpVerbs).filter((method) => !allowed.includes(method));
    app.route(otherMethod(allowed) as RouteHandler, { method: others, path });
  }
}

function methodsByPath(routes: ReadonlyArray<{ method: HttpMethod; path: `/${string}` }>) {
  const byPath = new Map<`/${string}`, HttpMethod[]>();
  for (const { method, path } of routes) byPath.set(path, [...(byPath.get(path) ?? []), method]);
  return byPath;
}

function otherMethod(allowed: readonly HttpMethod[]) {
  return async (reqCtx: ChatRequestContext) => {
    const allow = allowed.join(', ');
    if (reqCtx.req.method === HttpVerbs.OPTIONS) {
      return new Response(null, { status: 204, headers: { allow } });
    }
    throw new MethodNotAllowedError(
      `${reqCtx.req.method} is not allowed on ${new URL(reqCtx.req.url).pathname}; use ${allow}`,
      allowed,
    );
  };
}
