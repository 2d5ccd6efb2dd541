/** Writes docs/openapi.json: the chat function's routes, described from their own definitions. */
import { writeFileSync } from 'node:fs';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { type ChatAppDependencies, createChatApp } from '../functions/chat/app.js';
import { registeredRoutes } from '../functions/chat/http/route.js';
import { buildOpenApiDocument, type OpenApiDocument } from '../functions/chat/openapi/document.js';
import { SETTINGS } from '../shared/config/settings.js';
import { AuthenticationError } from '../shared/domain/errors.js';

/** What the routes' schemas are built with: the settings' defaults. */
const DEFAULT_LIMITS: ChatAppDependencies['limits'] = {
  maxMessageChars: SETTINGS.maxMessageChars.defaultValue!,
  pingIntervalMs: 15_000,
  userMonthlyBudgetUsd: SETTINGS.userMonthlyBudgetUsd.defaultValue!,
};

/**
 * The chat app as `createChatApp` builds it, with the settings' defaults and no ports: its
 * routes are read, and it answers only what needs none (public routes, errors; every
 * credential is refused).
 */
export function documentedChatApp() {
  const deps = {
    logger: new Logger({ serviceName: 'chat', logLevel: 'SILENT' }),
    createMetrics: () => new Metrics({ namespace: 'OpenApi', serviceName: 'chat' }),
    tracer: new Tracer({ serviceName: 'chat', enabled: false }),
    credentials: {
      verify: async () => {
        throw new AuthenticationError('no credential is accepted here', 'missing');
      },
    },
    authentication: { tokenHeader: 'authorization', adminIamPrincipals: [] },
    healthChecks: {},
    limits: DEFAULT_LIMITS,
  };
  return createChatApp(deps as unknown as ChatAppDependencies);
}

export function openApiDocument(): OpenApiDocument {
  return buildOpenApiDocument(registeredRoutes(documentedChatApp()), {
    servers: [
      {
        url: 'https://{functionUrlId}.lambda-url.{region}.on.aws',
        description: 'The chat function URL of a deployed stack',
        variables: {
          functionUrlId: { default: 'function-url-id', description: "The function URL's id" },
          region: { default: 'us-east-1', description: 'The AWS region of the stack' },
        },
      },
      { url: 'http://127.0.0.1:3000', description: 'The local stack (npm start)' },
    ],
  });
}

export function openApiJson(): string {
  return `${JSON.stringify(openApiDocument(), null, 2)}\n`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  writeFileSync(new URL('../docs/openapi.json', import.meta.url), openApiJson());
  console.log('wrote docs/openapi.json');
}
