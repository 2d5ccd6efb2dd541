import { ValidationError } from '../../../shared/domain/errors.js';
import { quoted } from '../../../shared/domain/quoted.js';
import { maxChars } from '../../../shared/validation/max-chars.js';
import * as z from '../../../shared/validation/zod.js';
import { json } from '../http/json-response.js';
import { defineRoute } from '../http/route.js';
import {
  MODEL_LIFECYCLES,
  type ModelLifecycle,
  type ModelListing,
} from '../messages/list-models.js';
import { queryInt } from '../request-schemas.js';

const MODELS_REFERENCE = 'https://docs.anthropic.com/en/api/models-list';

/** A model, as the Anthropic API describes it: every field it sent, not only these. */
const modelSchema = () =>
  z
    .looseObject({
      id: z.string(),
      type: z.literal('model'),
      display_name: z.string(),
      created_at: z.string(),
    })
    .check(
      z.describe(
        'As the Anthropic API describes the model, with every field it sent (`max_tokens`, `max_input_tokens`, `capabilities`, `lifecycle`…).',
      ),
    );

const ModelListQuerySchema = z.object({
  limit: queryInt({ min: 1, max: 1000, fallback: 20 }),
  after_id: z.optional(z.string().check(z.minLength(1), ...maxChars(200))),
  before_id: z.optional(z.string().check(z.minLength(1), ...maxChars(200))),
});

/** GET /v1/models: the models the caller may use, in Anthropic's list shape. */
export const listModelsRoute = (deps: { models: ModelListing }) =>
  defineRoute({
    method: 'GET',
    path: '/v1/models',
    query: ModelListQuerySchema,
    docs: {
      operationId: 'listModels',
      summary: 'The models the caller may use',
      params: {
        after_id: 'The page after this model id.',
        before_id: 'The page before this model id.',
      },
      repeatedParams: {
        'lifecycle[]': {
          description:
            'Keeps the models in these stages, one parameter a stage (`lifecycle` is taken too); without it, active and deprecated ones are listed, as the Anthropic API lists them.',
          values: MODEL_LIFECYCLES,
        },
      },
      description:
        "In Anthropic's list shape: the deployment's allowed models, narrowed by the API key's. `lifecycle[]` (repeatable: `active`, `deprecated`, `retired`) keeps the models in those stages; without it, active and deprecated ones are listed, as the Anthropic API lists them.",
      externalDocs: { url: MODELS_REFERENCE, description: "Anthropic's Models API" },
      responses: {
        200: {
          description: 'A page of models.',
          json: () =>
            z.object({
              data: z.array(modelSchema()),
              has_more: z.boolean(),
              first_id: z.nullable(z.string()),
              last_id: z.nullable(z.string()),
            }),
        },
      },
      // The Anthropic API's listing, read at most every 10 minutes, fails as /v1/messages does.
      errors: [429, 502, 529],
      passesOnUpstreamErrors: true,
    },
    handle: async ({ request, query, principal }) => {
      const lifecycles = lifecyclesOf(request);
      return json(
        200,
        await deps.models.list(principal, {
          limit: query.limit,
          ...(query.after_id && { afterId: query.after_id }),
          ...(query.before_id && { beforeId: query.before_id }),
          ...(lifecycles && { lifecycles }),
        }),
      );
    },
  });

/**
 * The `lifecycle` filter, repeated as the SDK sends it (`lifecycle[]=active&lifecycle[]=deprecated`,
 * which a query schema would see only the last of); `lifecycle=` is taken too.
 * @throws ValidationError for a stage the API does not have
 */
function lifecyclesOf(request: Request): ModelLifecycle[] | undefined {
  const query = new URL(request.url).searchParams;
  const given = [...query.getAll('lifecycle[]'), ...query.getAll('lifecycle')];
  if (given.length === 0) return undefined;
  const unknown = given.filter((stage) => !(MODEL_LIFECYCLES as readonly string[]).includes(stage));
  if (unknown.length > 0) {
    throw new ValidationError(
      `lifecycle: ${unknown.map(quoted).join(', ')} is not one of ${MODEL_LIFECYCLES.join(', ')}`,
    );
  }
  return [...new Set(given as ModelLifecycle[])];
}

/** GET /v1/models/{model_id} */
export const getModelRoute = (deps: { models: ModelListing }) =>
  defineRoute({
    method: 'GET',
    path: '/v1/models/:modelId',
    docs: {
      operationId: 'getModel',
      summary: 'A model the caller may use',
      params: {
        modelId:
          'A model id or alias (`claude-sonnet-4-6`), or a dated snapshot of one the caller may use (`claude-haiku-4-5-20251001`).',
      },
      externalDocs: { url: MODELS_REFERENCE, description: "Anthropic's Models API" },
      responses: { 200: { description: 'The model.', json: modelSchema } },
      errors: [404, 429, 502, 529],
      passesOnUpstreamErrors: true,
    },
    handle: async ({ params, principal }) =>
      json(200, await deps.models.get(principal, params.modelId!)),
  });
