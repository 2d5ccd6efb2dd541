import type { Logger } from '@aws-lambda-powertools/logger';
import type { Instrument } from '../../shared/adapters/aws/clients.js';
import {
  anthropicApiKeySource,
  createSecretsProvider,
  readAhead,
  secretSource,
} from '../../shared/adapters/secrets.js';
import {
  type IssuerKeySet,
  issuerKeySet,
  issuerKeySetUrl,
} from '../../shared/auth/issuer-key-set.js';
import type { Settings } from '../../shared/config/load-settings.js';
import type { RequestTracer } from './observability/request-tracer.js';

/** The chat function's secrets, from Secrets Manager (or local values). */
export interface ChatSecrets {
  anthropicApiKey: () => Promise<string>;
  /** The HS256 tokens' signing secret; none with an OIDC issuer. */
  jwtSecret?: () => Promise<string>;
  cursorSigningKey: () => Promise<string>;
  /** The OIDC issuer's keys, with an OIDC issuer: as the token's secret, read ahead. */
  issuerKeySet?: IssuerKeySet;
  /** Settles (never rejects) once the secrets read ahead have been read, or failed to be. */
  readAhead: Promise<void>;
}

/**
 * A module of its own, imported in the background before the rest of the AWS adapters: the
 * secrets every first request of a new instance waits for (the token's — its HS256 secret or
 * its OIDC issuer's key set — and the model call's key) are read while the rest loads, not
 * once the request is under way. Not the cursors' key, which only a listing's next page needs.
 */
export function createChatSecrets(
  settings: Settings,
  tracing: Promise<RequestTracer>,
  logger: Pick<Logger, 'warn'>,
): ChatSecrets {
  // The reads start before the tracer has loaded: the client is captured once it has.
  const instrumentLater: Instrument = (client) => {
    tracing.then((tracer) => tracer.captureAWSv3Client(client)).catch(() => {});
    return client;
  };
  let secrets: ReturnType<typeof createSecretsProvider> | undefined;
  const provider = () => {
    secrets ??= createSecretsProvider(instrumentLater);
    return secrets;
  };
  const readsAhead: Promise<void>[] = [];
  const ahead = (arn: string | undefined, source: () => Promise<string>) => {
    if (!arn) return source;
    const reading = readAhead(source);
    readsAhead.push(reading.read);
    return reading.source;
  };
  const issuerKeys = settings.authMode === 'oidc' ? oidcKeySet(settings, logger) : undefined;
  if (issuerKeys) readsAhead.push(issuerKeys.readAhead());
  return {
    anthropicApiKey: ahead(
      settings.anthropicApiKeySecretArn,
      anthropicApiKeySource({
        arn: settings.anthropicApiKeySecretArn,
        localValue: settings.anthropicApiKey,
        provider,
      }),
    ),
    ...(settings.authMode === 'hs256' && {
      jwtSecret: ahead(
        settings.jwtSecretArn,
        secretSource({
          name: 'JWT signing secret',
          arn: settings.jwtSecretArn,
          localValue: settings.jwtSecret,
          provider,
        }),
      ),
    }),
    cursorSigningKey: secretSource({
      name: 'cursor signing key',
      arn: settings.signingKeySecretArn,
      localValue: settings.signingKey,
      provider,
    }),
    ...(issuerKeys && { issuerKeySet: issuerKeys }),
    readAhead: Promise.all(readsAhead).then(() => {}),
  };
}

function oidcKeySet(settings: Settings, logger: Pick<Logger, 'warn'>): IssuerKeySet {
  return issuerKeySet(
    issuerKeySetUrl({
      // Present whenever authMode is oidc (loadSettings checks).
      issuer: settings.jwtIssuer!,
      ...(settings.jwksUrl && { jwksUrl: settings.jwksUrl }),
    }),
    {
      onStaleKeySet: ({ error, readAt }) =>
        logger.warn("could not read the token issuer's key set: using the one read before", {
          error,
          keySetReadAt: readAt.toISOString(),
        }),
    },
  );
}
