import * as z from '../../../shared/validation/zod.js';
import { errorBodySchema } from '../http/error-response.js';
import { json } from '../http/json-response.js';
import { defineRoute } from '../http/route.js';

const CHECK_TIMEOUT_MS = 3_000;

/** Probes for GET /health: each resolves when its dependency is usable. */
export type HealthChecks = Readonly<Record<string, () => Promise<void>>>;

/** GET /health (no auth): 200 when every dependency answers, else 503 naming those that do not. */
export const healthRoute = (deps: { healthChecks: HealthChecks }) =>
  defineRoute({
    method: 'GET',
    path: '/health',
    access: 'public',
    docs: {
      operationId: 'getHealth',
      summary: 'Whether the table, the queue and the Claude configuration are usable',
      responses: {
        200: { description: 'Every dependency answers.', json: healthSchema },
        503: {
          description: 'A dependency does not answer (in 3 s): `checks` names it.',
          json: unhealthySchema,
        },
      },
    },
    handle: async ({ scope }) => {
      const names = Object.keys(deps.healthChecks);
      const results = await Promise.allSettled(
        Object.values(deps.healthChecks).map((check) => withTimeout(check(), CHECK_TIMEOUT_MS)),
      );
      const checks = Object.fromEntries<'ok' | 'unavailable'>(
        names.map((name, i) => [name, results[i]?.status === 'fulfilled' ? 'ok' : 'unavailable']),
      );
      const failing = names.filter((name) => checks[name] !== 'ok');
      if (failing.length === 0) return json(200, { status: 'ok', checks } satisfies Healthy);
      scope.logger.warn('health check failed', {
        failing,
        reasons: results.map((result) =>
          result.status === 'rejected' ? String(result.reason) : 'ok',
        ),
      });
      return json(503, {
        status: 'unavailable',
        checks,
        type: 'error',
        error: { type: 'api_error', message: `unavailable: ${failing.join(', ')}` },
        requestId: scope.requestId,
        request_id: scope.requestId,
      } satisfies Unhealthy);
    },
  });

const checksSchema = () => z.record(z.string(), z.enum(['ok', 'unavailable']));

const healthSchema = () => z.object({ status: z.literal('ok'), checks: checksSchema() });

/** An error body, as every error's, with the checks. */
const unhealthySchema = () =>
  z.extend(errorBodySchema(), { status: z.literal('unavailable'), checks: checksSchema() });

type Healthy = z.infer<ReturnType<typeof healthSchema>>;
type Unhealthy = z.infer<ReturnType<typeof unhealthySchema>>;

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer in ${ms} ms`)), ms);
    promise.then(resolve, reject).finally(() => clearTimeout(timer));
  });
}
