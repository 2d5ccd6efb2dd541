import * as z from '../../../shared/validation/zod.js';
import { json } from '../http/json-response.js';
import { defineRoute } from '../http/route.js';

/**
 * GET /openapi.json (no auth): the API's OpenAPI 3.1 document, docs/openapi.json (which
 * `npm run docs` builds from the routes, and a unit test keeps current), for the server
 * the caller reached. Imported on the first request only: it is a chunk of its own, so
 * neither the document nor its generator costs the function's cold start.
 */
export const openApiRoute = () =>
  defineRoute({
    method: 'GET',
    path: '/openapi.json',
    access: 'public',
    docs: {
      operationId: 'getOpenApiDocument',
      summary: 'This OpenAPI document',
      description:
        'Built from the routes themselves: the zod schemas requests are validated with, and the schemas responses are tested against. `servers` names the URL it was fetched from.',
      responses: {
        200: {
          description: 'The OpenAPI 3.1 document.',
          json: () =>
            z.looseObject({
              openapi: z.string(),
              info: z.looseObject({}),
              paths: z.looseObject({}),
            }),
        },
      },
    },
    handle: async ({ request }) => {
      const { default: document } = await import('../../../docs/openapi.json', {
        with: { type: 'json' },
      });
      return json(200, { ...document, servers: [{ url: new URL(request.url).origin }] });
    },
  });
