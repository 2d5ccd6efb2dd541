import type { Instrument } from '../../shared/adapters/aws/clients.js';
import {
  anthropicApiKeySource,
  createSecretsProvider,
  readAhead,
  secretSource,
} from '../../shared/adapters/secrets.js';
import type { Settings } from '../../shared/config/load-settings.js';
import type { RequestTracer } from './observability/request-tracer.js';

/** The chat function's secrets, from Secrets Manager (or local values). */
export interface ChatSecrets {
  anthropicApiKey: () => Promise<string>;
  /** The HS256 tokens' signing secret; none with an OIDC issuer. */
  jwtSecret?: () => Promise<string>;
  cursorSigningKey: () => Promise<string>;
  /** Settles (never rejects) once the secrets read ahead have been read, or failed to be. */
  readAhead: Promise<void>;
}

/**
 * A module of its own, imported in the background before the rest of the AWS adapters: the
 * secrets every first request of a new instance waits for (the token's, the model call's key)
 * are read while the rest loads, not once the request is under way. Not the cursors' key,
 * which only a listing's next page needs.
 */
export function createChatSecrets(
  settings: Settings,
  tracing: Promise<RequestTracer>,
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
    readAhead: Promise.all(readsAhead).then(() => {}),
  };
}
