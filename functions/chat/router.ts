import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { Context, LambdaFunctionURLEvent } from 'aws-lambda';
import type { Principal } from '../../shared/auth/token-verifier.js';
import { MethodNotAllowedError, NotFoundError } from '../../shared/domain/errors.js';
import type { JsonResponse } from '../../shared/http/json-response.js';
import type { ChatDependencies } from './dependencies.js';

export interface StreamingResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: NodeJS.ReadableStream;
}

export type RouteResponse = JsonResponse | StreamingResponse;

export interface RouteContext {
  deps: ChatDependencies;
  event: LambdaFunctionURLEvent;
  context: Context;
  /** Path parameters, by name. */
  params: Record<string, string>;
  logger: Logger;
  metrics: Metrics;
}

export interface Route {
  method: string;
  /** A path with `{name}` parameters, e.g. `/v1/conversations/{id}`. */
  path: string;
  /** @default true: the caller must present a valid bearer token */
  authenticated?: boolean;
  handle: (request: RouteContext, principal: Principal) => Promise<RouteResponse>;
}

export interface MatchedRoute {
  route: Route;
  params: Record<string, string>;
}

/** Finds the route for a request: 404 for an unknown path, 405 for a known path's wrong method. */
export function matchRoute(routes: readonly Route[], method: string, path: string): MatchedRoute {
  const onPath = routes
    .map((route) => ({ route, params: matchPath(route.path, path) }))
    .filter((candidate): candidate is MatchedRoute => candidate.params !== undefined);
  if (onPath.length === 0) throw new NotFoundError(`no route for ${method} ${path}`);
  const match = onPath.find((candidate) => candidate.route.method === method);
  if (!match) {
    const allowed = onPath.map((candidate) => candidate.route.method).join(', ');
    throw new MethodNotAllowedError(`${method} is not allowed on ${path}; use ${allowed}`);
  }
  return match;
}

function matchPath(pattern: string, path: string): Record<string, string> | undefined {
  const patternParts = pattern.split('/');
  const pathParts = path.replace(/\/+$/, '').split('/');
  if (patternParts.length !== pathParts.length) return undefined;
  const params: Record<string, string> = {};
  for (const [index, part] of patternParts.entries()) {
    const actual = pathParts[index] ?? '';
    if (part.startsWith('{') && part.endsWith('}')) {
      if (!actual) return undefined;
      params[part.slice(1, -1)] = decodeURIComponent(actual);
    } else if (part !== actual) {
      return undefined;
    }
  }
  return params;
}
