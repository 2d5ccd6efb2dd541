import * as z from '../../../shared/validation/zod.js';
import { json } from '../http/json-response.js';
import { defineRoute } from '../http/route.js';
import type { ModelListing } from '../messages/list-models.js';

const ModelListQuerySchema = z.object({
  limit: z._default(z.pipe(z.coerce.number(), z.int().check(z.minimum(1), z.maximum(1000))), 20),
  after_id: z.optional(z.string().check(z.minLength(1), z.maxLength(200))),
  before_id: z.optional(z.string().check(z.minLength(1), z.maxLength(200))),
});

/** GET /v1/models: the models the caller may use, in Anthropic's list shape. */
export const listModelsRoute = (deps: { models: ModelListing }) =>
  defineRoute({
    method: 'GET',
    path: '/v1/models',
    query: ModelListQuerySchema,
    handle: async ({ query, principal }) =>
      json(
        200,
        await deps.models.list(principal, {
          limit: query.limit,
          ...(query.after_id && { afterId: query.after_id }),
          ...(query.before_id && { beforeId: query.before_id }),
        }),
      ),
  });

/** GET /v1/models/{model_id} */
export const getModelRoute = (deps: { models: ModelListing }) =>
  defineRoute({
    method: 'GET',
    path: '/v1/models/:modelId',
    handle: async ({ params, principal }) =>
      json(200, await deps.models.get(principal, params.modelId!)),
  });
