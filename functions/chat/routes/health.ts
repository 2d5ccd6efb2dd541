import { jsonResponse } from '../../../shared/http/json-response.js';
import type { Route } from '../router.js';

const CHECK_TIMEOUT_MS = 3_000;

/** GET /health (no auth): 200 when every dependency answers, else 503 naming those that do not. */
export const healthRoute: Route = {
  method: 'GET',
  path: '/health',
  authenticated: false,
  handle: async ({ deps, logger }) => {
    const names = Object.keys(deps.healthChecks);
    const results = await Promise.allSettled(
      Object.values(deps.healthChecks).map((check) => withTimeout(check(), CHECK_TIMEOUT_MS)),
    );
    const checks = Object.fromEntries(
      names.map((name, i) => [name, results[i]?.status === 'fulfilled' ? 'ok' : 'unavailable']),
    );
    const failing = names.filter((name) => checks[name] !== 'ok');
    if (failing.length === 0) return jsonResponse(200, { status: 'ok', checks });
    logger.warn('health check failed', {
      failing,
      reasons: results.map((result) =>
        result.status === 'rejected' ? String(result.reason) : 'ok',
      ),
    });
    return jsonResponse(503, {
      status: 'unavailable',
      checks,
      error: { type: 'service_unavailable', message: `unavailable: ${failing.join(', ')}` },
    });
  },
};

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer in ${ms} ms`)), ms);
    promise.then(resolve, reject).finally(() => clearTimeout(timer));
  });
}
