import * as z from '../../../shared/validation/zod.js';
import type { ChatRouter } from '../http/chat-router.js';
import { json } from '../http/json-response.js';
import { defineRoute, registeredRoutes } from '../http/route.js';
import type { OpenApiDocument } from '../openapi/document.js';

/**
 * GET /openapi.json (no auth): the OpenAPI 3.1 document of every route registered on
 * `app`, built on the first request from the routes' own schemas (the builder is loaded
 * then, so it costs no cold start), for the server the caller reached.
 */
export const openApiRoute = (app: ChatRouter) => {
  let built: Promise<OpenApiDocument> | undefined;
  return defineRoute({
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
      built ??= import('../openapi/document.js')
        .then(({ buildOpenApiDocument }) =>
          buildOpenApiDocument(registeredRoutes(app), { servers: [] }),
        )
        .catch((error: unknown) => {
          built = undefined; // the next request tries again
          throw error;
        });
      const document = await built;
      return json(200, { ...document, servers: [{ url: new URL(request.url).origin }] });
    },
  });
};
