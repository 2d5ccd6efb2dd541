import { HttpVerbs } from '@aws-lambda-powertools/event-handler/http';
import type {
  HttpMethod,
  Middleware,
  RouteHandler,
} from '@aws-lambda-powertools/event-handler/types';
import type { Principal } from '../../../shared/auth/token-verifier.js';
import { MethodNotAllowedError } from '../../../shared/domain/errors.js';
import type * as z from '../../../shared/validation/zod.js';
import {
  type ChatRequestContext,
  type ChatRouter,
  type RequestScope,
  unknownMethodOf,
} from './chat-router.js';
import { identityContentOnly } from './content-encoding.js';
import { isHead, withoutBody } from './head.js';
import { withinJsonDepth } from './json-depth.js';
import { singleValuedQuery } from './single-valued-query.js';

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

/**
 * A zod schema built only when the API document is (`GET /openapi.json`, `npm run docs`,
 * tests), never while a request is served: building schemas at load time costs cold start.
 */
export type LazySchema = () => z.ZodMiniType;

/** One documented answer of a route. */
export interface RouteResponse {
  description: string;
  /** Its JSON body. */
  json?: LazySchema;
  /** The media type of a body that is not JSON (`text/html`). */
  text?: `text/${string}`;
  /** A Server-Sent Events stream: each event's name and the schema of its `data:` JSON. */
  events?: () => Readonly<Record<string, z.ZodMiniType>>;
  /**
   * How the stream frames its events, for a reader written by hand.
   * @default an `event:` line and a `data:` line each, `: ping` comments between
   */
  framing?: string;
  /** Headers worth knowing, by lowercase name: what each says. */
  headers?: Readonly<Record<string, string>>;
}

/** Error statuses a route declares; the error body and each status's meaning are documented once. */
export type ErrorStatus = 400 | 402 | 403 | 404 | 409 | 413 | 422 | 429 | 502 | 503 | 529;

/** What the OpenAPI document says of a route (`functions/chat/openapi/`); never read while serving. */
export interface RouteDocumentation {
  /** Unique, camelCase: the name generated clients give the call. */
  operationId: string;
  /** One line. */
  summary: string;
  description?: string;
  /** Its answers by status (errors go in `errors`). @default a 200 without a documented body */
  responses?: Readonly<Record<number, RouteResponse>>;
  /**
   * Error statuses it may answer besides those every route of its access may: 400 when it
   * has a body, a query or a path parameter, 401 unless public, 403 when admin, 500 and 503.
   */
  errors?: readonly ErrorStatus[];
  /** What its path (`:id`) and query parameters mean, by name. */
  params?: Readonly<Record<string, string>>;
  /** Request headers it reads besides the credentials, by lowercase name: what each says. */
  headers?: Readonly<Record<string, string>>;
  /**
   * Query parameters given once per value (`lifecycle[]=active&lifecycle[]=deprecated`), which
   * the handler reads from the URL: its `query` schema would see only the last. By name.
   */
  repeatedParams?: Readonly<Record<string, { description: string; values: readonly string[] }>>;
  /** For a route that forwards another API's payloads: that API's reference. */
  externalDocs?: { url: string; description?: string };
  /**
   * It passes on the Anthropic API's error responses with their status, whichever it is
   * (a 408, 409, 422 or 504 too): documented as `4XX` and `5XX` besides `errors`.
   */
  passesOnUpstreamErrors?: true;
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
  /** For the API document: every registered route is in it (`GET /openapi.json`). */
  docs?: RouteDocumentation;
  handle(input: RouteInput<Body, Query>): Promise<Response>;
}

/** Declares a route; its types follow from its schemas. */
export function defineRoute<Body = undefined, Query = undefined>(
  route: RouteDefinition<Body, Query>,
): RouteDefinition<Body, Query> {
  return route;
}

const ANONYMOUS: Principal = { userId: 'anonymous' };

// biome-ignore lint/suspicious/noExplicitAny: each route keeps its own body and query types
type AnyRoute = RouteDefinition<any, any>;

const REGISTERED = new WeakMap<ChatRouter, readonly AnyRoute[]>();

/** The routes `registerRoutes` put on `app`, in order: what the API document describes. */
export function registeredRoutes(app: ChatRouter): readonly AnyRoute[] {
  return REGISTERED.get(app) ?? [];
}

/**
 * Registers the routes on the router: each behind `authenticate` unless public, with
 * Event Handler validating its body and query (a query parameter it reads, once); a body in a
 * content coding is refused first (415). A GET route answers HEAD too, without the body.
 * Event Handler answers a known path's other methods with 404, so each is registered here to
 * answer 405 with `Allow` (OPTIONS: 204 with `Allow`).
 */
export function registerRoutes(
  app: ChatRouter,
  routes: readonly AnyRoute[],
  hooks: { authenticate: Middleware; requireAdmin: Middleware },
): void {
  REGISTERED.set(app, [...registeredRoutes(app), ...routes]);
  for (const route of routes) {
    const schemas = {
      ...(route.body && { body: withinJsonDepth(route.body) }),
      ...(route.query && { query: route.query }),
    };
    const handler = async (
      reqCtx: ChatRequestContext & { valid?: { req?: Record<string, unknown> } },
    ) => {
      const response = await route.handle({
        request: reqCtx.req,
        params: reqCtx.params,
        body: reqCtx.valid?.req?.body,
        query: reqCtx.valid?.req?.query,
        principal: reqCtx.get('principal') ?? ANONYMOUS,
        scope: reqCtx.get('scope')!,
      });
      return isHead(reqCtx.req) ? withoutBody(response) : response;
    };
    const access =
      route.access === 'public'
        ? []
        : route.access === 'admin'
          ? [hooks.authenticate, hooks.requireAdmin]
          : [hooks.authenticate];
    const queryCheck = route.query && singleValuedQuery(route.query);
    const options = {
      method: answeredMethods(route.method),
      path: route.path,
      middleware: [
        ...(route.body ? [identityContentOnly] : []),
        ...access,
        ...(queryCheck ? [queryCheck] : []),
      ],
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

/** A GET route's method and HEAD, answered as the GET without its body; any other's alone. */
function answeredMethods(method: HttpMethod): HttpMethod[] {
  return method === HttpVerbs.GET ? [HttpVerbs.GET, HttpVerbs.HEAD] : [method];
}

function methodsByPath(routes: ReadonlyArray<{ method: HttpMethod; path: `/${string}` }>) {
  const byPath = new Map<`/${string}`, HttpMethod[]>();
  for (const { method, path } of routes) {
    byPath.set(path, [...(byPath.get(path) ?? []), ...answeredMethods(method)]);
  }
  return byPath;
}

function otherMethod(allowed: readonly HttpMethod[]) {
  return async (reqCtx: ChatRequestContext) => {
    const allow = allowed.join(', ');
    const method = unknownMethodOf(reqCtx.event)?.slice(0, 32) ?? reqCtx.req.method;
    if (method === HttpVerbs.OPTIONS) {
      return new Response(null, { status: 204, headers: { allow } });
    }
    throw new MethodNotAllowedError(
      `${method} is not allowed on ${new URL(reqCtx.req.url).pathname}; use ${allow}`,
      allowed,
    );
  };
}
