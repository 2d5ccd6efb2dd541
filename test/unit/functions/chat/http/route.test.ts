import { describe, expect, it } from 'vitest';
import { ROUTES } from '../../functions/chat/app.js';
import { matchRoute } from '../../functions/chat/router.js';
import { MethodNotAllowedError, NotFoundError } from '../../shared/domain/errors.js';

describe('matchRoute', () => {
  it('finds a route and its path parameters', () => {
    const { route, params } = matchRoute(ROUTES, 'POST', '/v1/conversations/conv_1/stop');
    expect(route.path).toBe('/v1/conversations/{id}/stop');
    expect(params).toEqual({ id: 'conv_1' });
  });

  it('ignores a trailing slash', () => {
    expect(matchRoute(ROUTES, 'GET', '/v1/conversations/').route.path).toBe('/v1/conversations');
  });

  it('answers an unknown path with NotFoundError', () => {
    expect(() => matchRoute(ROUTES, 'GET', '/v2/nothing')).toThrow(NotFoundError);
  });

  it('answers a known path with the wrong method with MethodNotAllowedError naming the allowed ones', () => {
    expect(() => matchRoute(ROUTES, 'PUT', '/v1/conversations/conv_1')).toThrow(/GET, DELETE/);
    expect(() => matchRoute(ROUTES, 'GET', '/v1/chat')).toThrow(MethodNotAllowedError);
  });

  it('leaves only GET /health unauthenticated', () => {
    expect(
      ROUTES.filter((r) => r.authenticated === false).map((r) => `${r.method} ${r.path}`),
    ).toEqual(['GET /health']);
  });
});
