import packageJson from '../../../package.json' with { type: 'json' };
import { errorBodySchema } from '../http/error-response.js';
import type {
  ErrorStatus,
  RouteDefinition,
  RouteDocumentation,
  RouteResponse,
} from '../http/route.js';
import { ERROR_STATUSES, UPSTREAM_ERROR } from './error-responses.js';
import { type JsonSchema, jsonSchemaOf } from './json-schema.js';

// biome-ignore lint/suspicious/noExplicitAny: routes of every body and query type
type AnyRoute = RouteDefinition<any, any>;

export interface OpenApiOptions {
  servers: ReadonlyArray<{
    url: string;
    description?: string;
    variables?: Record<string, { default: string; description?: string }>;
  }>;
}

/** The OpenAPI document's shape, as far as this builder and its tests read it. */
export interface OpenApiDocument {
  openapi: string;
  info: Record<string, unknown>;
  servers: OpenApiOptions['servers'];
  paths: Record<string, Record<string, Operation>>;
  components: {
    schemas: Record<string, JsonSchema>;
    responses: Record<string, unknown>;
    [section: string]: unknown;
  };
  [field: string]: unknown;
}

interface Operation {
  operationId: string;
  responses: Record<string, unknown>;
  [field: string]: unknown;
}

const TAGS = [
  {
    name: 'Chat',
    description:
      'Conversations with Claude: a turn streamed as Server-Sent Events, the history, stop and resume.',
    matches: (path: string) => /^\/v1\/(chat|conversations|ui)(\/|$)/.test(path),
  },
  {
    name: 'Anthropic API',
    description:
      "Anthropic's Messages API, governed: budgets, rate limits, allowed models and the response cache. Payloads are Anthropic's own.",
    matches: (path: string) => /^\/v1\/(messages|models)(\/|$)/.test(path),
  },
  {
    name: 'Jobs',
    description: 'Work done in the background (document summaries), queued and polled.',
    matches: (path: string) => /^\/v1\/jobs(\/|$)/.test(path),
  },
  {
    name: 'Usage',
    description: "The caller's tokens, cost and budget this month.",
    matches: (path: string) => path === '/v1/usage',
  },
  {
    name: 'Admin',
    description:
      'API keys, budgets and the usage report. A JWT with the admin claim (`adminClaim`); API keys never qualify.',
    matches: (path: string) => path.startsWith('/v1/admin/'),
  },
  {
    name: 'Service',
    description: 'Health, this document and the playground page: no credential needed.',
    matches: () => true,
  },
] as const;

const DESCRIPTION = `Claude on AWS serverless: streaming chat, Anthropic's Messages API (governed), background jobs and an admin API, behind one Lambda function URL.

Every route but \`GET /health\`, \`GET /openapi.json\` and the playground (\`GET /\`, \`GET /playground\`) needs a credential: \`Authorization: Bearer <JWT or API key>\` or \`x-api-key: <API key or JWT>\`. The user is the token's \`sub\`, or the key's principal.

Errors are JSON in Anthropic's shape with the request id (\`Error\`); every response carries it in \`x-request-id\` and \`request-id\` (as the Anthropic API names it). Every response says \`cache-control: no-store\` and \`x-content-type-options: nosniff\` (streams \`no-cache, no-transform\`, the playground \`no-cache\`). An error the Anthropic API answered \`/v1/messages\` with keeps its status, type, \`error.details\` and \`x-should-retry\` header. A known path called with another method answers 405 with \`Allow\`; OPTIONS answers 204 with \`Allow\`. Every GET route answers HEAD too, with the status and headers of its GET and no body. A body with a \`Content-Encoding\` (gzip, br…) is refused with 415 and \`Accept-Encoding: identity\`: send it unencoded.`;

/**
 * The OpenAPI 3.1 document of the routes, from their own definitions: the zod schemas
 * Event Handler validates requests with, and the response and event schemas the tests
 * check real responses against.
 */
export function buildOpenApiDocument(
  routes: readonly AnyRoute[],
  options: OpenApiOptions,
): OpenApiDocument {
  const schemas: Record<string, JsonSchema> = {
    Error: jsonSchemaOf(errorBodySchema(), 'output'),
  };
  const paths: OpenApiDocument['paths'] = {};
  const tags = new Set<string>();
  for (const route of routes) {
    const docs = route.docs ?? undocumented(route);
    const path = route.path.replace(/:(\w+)/g, '{$1}');
    const tag = TAGS.find((candidate) => candidate.matches(path))!.name;
    tags.add(tag);
    paths[path] = {
      ...paths[path],
      [route.method.toLowerCase()]: operationOf(route, docs, tag, schemas),
    };
  }
  return {
    openapi: '3.1.1',
    info: {
      title: 'claude-serverless API',
      version: packageJson.version,
      description: DESCRIPTION,
    },
    servers: options.servers,
    security: [{ bearer: [] }, { apiKey: [] }],
    tags: TAGS.filter(({ name }) => tags.has(name)).map(({ name, description }) => ({
      name,
      description,
    })),
    paths,
    components: {
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT or API key (csk_…)',
          description:
            'A JWT (the user is its `sub`; admin routes need the admin claim) or a project API key (`csk_…`, from the admin API; acts for its principal, never as an admin).',
        },
        apiKey: {
          type: 'apiKey',
          in: 'header',
          name: 'x-api-key',
          description: "An API key (`csk_…`) or a JWT, as Anthropic's SDKs send it.",
        },
      },
      schemas,
      responses: Object.fromEntries(
        [...Object.values(ERROR_STATUSES), UPSTREAM_ERROR].map(
          ({ name, description, types, headers = [] }) => [
            name,
            {
              description: `${description} \`error.type\`: ${types.map((type) => `\`${type}\``).join(', ')}.`,
              headers: {
                'x-request-id': { $ref: '#/components/headers/RequestId' },
                ...Object.fromEntries(
                  headers.map((header) => [
                    header,
                    { $ref: `#/components/headers/${HEADER_NAMES[header]}` },
                  ]),
                ),
              },
              content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
            },
          ],
        ),
      ),
      headers: {
        RequestId: {
          description: 'The Lambda request id: also in the error body and every log line.',
          schema: { type: 'string' },
        },
        RetryAfter: {
          description: 'Seconds to wait before retrying.',
          schema: { type: 'integer', minimum: 0 },
        },
        WwwAuthenticate: {
          description: 'RFC 6750: `Bearer realm="api"`, or `Bearer error="invalid_token"`.',
          schema: { type: 'string' },
        },
        XShouldRetry: {
          description:
            'Whether the same request may succeed if sent again; the Anthropic SDK obeys it over its own retry rules.',
          schema: { type: 'string', enum: ['true', 'false'] },
        },
      },
    },
  };
}

const HEADER_NAMES = {
  'retry-after': 'RetryAfter',
  'www-authenticate': 'WwwAuthenticate',
  'x-should-retry': 'XShouldRetry',
};

function operationOf(
  route: AnyRoute,
  docs: RouteDocumentation,
  tag: string,
  schemas: Record<string, JsonSchema>,
): Operation {
  const name = pascal(docs.operationId);
  const access = route.access ?? 'user';
  const parameters = [
    ...pathParameters(route.path, docs),
    ...queryParameters(route, docs),
    ...headerParameters(docs),
  ];
  return {
    operationId: docs.operationId,
    summary: docs.summary,
    ...(docs.description && { description: docs.description }),
    tags: [tag],
    ...(access === 'public' && { security: [] }),
    ...(access === 'admin' && { security: [{ bearer: ['admin'] }, { apiKey: ['admin'] }] }),
    ...(parameters.length > 0 && { parameters }),
    ...(route.body && {
      requestBody: {
        required: true,
        content: {
          'application/json': {
            schema: named(schemas, `${name}Request`, jsonSchemaOf(route.body, 'input')),
          },
        },
      },
    }),
    responses: {
      ...successResponses(docs, name, schemas),
      ...errorResponses(route, docs),
    },
    ...(docs.externalDocs && { externalDocs: docs.externalDocs }),
  };
}

function pathParameters(path: string, docs: RouteDocumentation) {
  return [...path.matchAll(/:(\w+)/g)].map(([, param]) => ({
    name: param!,
    in: 'path',
    required: true,
    ...(docs.params?.[param!] && { description: docs.params[param!] }),
    schema: { type: 'string' },
  }));
}

function headerParameters(docs: RouteDocumentation) {
  return Object.entries(docs.headers ?? {}).map(([name, description]) => ({
    name,
    in: 'header',
    required: false,
    description,
    schema: { type: 'string' },
  }));
}

/** What the query parameters every listing shares mean, unless a route's `params` says. */
const QUERY_PARAMETERS: Readonly<Record<string, string>> = {
  limit: 'At most this many items.',
  cursor: 'The `nextCursor` of the previous page, for the next one.',
};

function queryParameters(route: AnyRoute, docs: RouteDocumentation) {
  return [...schemaQueryParameters(route, docs), ...repeatedQueryParameters(docs)];
}

function schemaQueryParameters(route: AnyRoute, docs: RouteDocumentation) {
  if (!route.query) return [];
  // Types and defaults as the handler gets them (`limit` an integer), required as sent.
  const output = jsonSchemaOf(route.query, 'output');
  const required = new Set(jsonSchemaOf(route.query, 'input').required ?? []);
  return Object.entries(output.properties ?? {}).map(([name, schema]) => {
    const { description = docs.params?.[name] ?? QUERY_PARAMETERS[name], ...rest } =
      schema as JsonSchema;
    return {
      name,
      in: 'query',
      required: required.has(name),
      ...(description && { description }),
      schema: rest,
    };
  });
}

function repeatedQueryParameters(docs: RouteDocumentation) {
  return Object.entries(docs.repeatedParams ?? {}).map(([name, { description, values }]) => ({
    name,
    in: 'query',
    required: false,
    description,
    style: 'form',
    explode: true,
    schema: { type: 'array', items: { type: 'string', enum: values } },
  }));
}

function successResponses(
  docs: RouteDocumentation,
  name: string,
  schemas: Record<string, JsonSchema>,
): Record<string, unknown> {
  const responses = docs.responses ?? { 200: { description: 'OK' } };
  const statuses = Object.keys(responses);
  return Object.fromEntries(
    Object.entries(responses).map(([status, response]) => {
      const suffix = status === statuses[0] ? '' : status;
      return [status, responseOf(response, `${name}${suffix}`, schemas)];
    }),
  );
}

const NAMED_EVENTS =
  'Each event is an `event: <name>` line and a `data: <JSON>` line whose `type` repeats the name; described here is the JSON. `: ping` comments keep the connection open.';

function responseOf(response: RouteResponse, name: string, schemas: Record<string, JsonSchema>) {
  const content: Record<string, unknown> = {};
  if (response.json) {
    content['application/json'] = {
      schema: named(schemas, `${name}Response`, jsonSchemaOf(response.json(), 'output')),
    };
  }
  if (response.text) content[response.text] = { schema: { type: 'string' } };
  if (response.events) {
    const events = Object.entries(response.events()).map(([event, schema]) => ({
      event,
      ref: named(schemas, `${name}${pascal(event)}Event`, jsonSchemaOf(schema, 'output')),
    }));
    content['text/event-stream'] = {
      schema: {
        description: response.framing ?? NAMED_EVENTS,
        oneOf: events.map(({ ref }) => ref),
        discriminator: {
          propertyName: 'type',
          mapping: Object.fromEntries(events.map(({ event, ref }) => [event, ref.$ref])),
        },
      },
    };
  }
  return {
    description: response.description,
    headers: {
      'x-request-id': { $ref: '#/components/headers/RequestId' },
      ...Object.fromEntries(
        Object.entries(response.headers ?? {}).map(([header, description]) => [
          header,
          { description, schema: { type: 'string' } },
        ]),
      ),
    },
    ...(Object.keys(content).length > 0 && { content }),
  };
}

function errorResponses(route: AnyRoute, docs: RouteDocumentation): Record<string, unknown> {
  const statuses = new Set<ErrorStatus | 401 | 500>(docs.errors ?? []);
  // A path parameter too: malformed percent-encoding in it is refused before the route runs.
  if (route.body || route.query || route.path.includes('/:')) statuses.add(400);
  if (route.access !== 'public') statuses.add(401);
  if (route.access === 'admin') statuses.add(403);
  statuses.add(500);
  // DynamoDB, SQS or Secrets Manager unavailable: any route may meet it.
  statuses.add(503);
  const upstream = { $ref: `#/components/responses/${UPSTREAM_ERROR.name}` };
  return {
    ...Object.fromEntries(
      [...statuses]
        .filter((status) => !(String(status) in (docs.responses ?? {})))
        .sort((a, b) => a - b)
        .map((status) => [
          status,
          { $ref: `#/components/responses/${ERROR_STATUSES[status].name}` },
        ]),
    ),
    ...(docs.passesOnUpstreamErrors && { '4XX': upstream, '5XX': upstream }),
  };
}

/**
 * Puts `schema` in the components under `name` and refers to it; a schema already there
 * (the chat events of every route that streams a turn) is referred to under its first name.
 */
function named(schemas: Record<string, JsonSchema>, name: string, schema: JsonSchema) {
  const json = JSON.stringify(schema);
  const same = Object.keys(schemas).find((existing) => JSON.stringify(schemas[existing]) === json);
  if (same) return { $ref: `#/components/schemas/${same}` };
  if (schemas[name]) {
    throw new Error(`two schemas named ${name}: give the routes distinct operationIds`);
  }
  schemas[name] = schema;
  return { $ref: `#/components/schemas/${name}` };
}

/** A route declared without `docs` is still listed: the tests ask for its documentation. */
function undocumented(route: AnyRoute): RouteDocumentation {
  return {
    operationId: [route.method.toLowerCase(), ...route.path.split(/[^A-Za-z0-9]+/)]
      .filter(Boolean)
      .map((word, i) => (i === 0 ? word : pascal(word)))
      .join(''),
    summary: `${route.method} ${route.path}`,
  };
}

function pascal(words: string): string {
  return words
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((word) => word[0]!.toUpperCase() + word.slice(1))
    .join('');
}
