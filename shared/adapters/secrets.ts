import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ANTHROPIC_API_KEY_PLACEHOLDER } from '../config/secret-placeholders.js';
import type { Instrument } from './aws/clients.js';

/** Secrets are cached this long per execution environment, so rotation is picked up. */
const SECRET_CACHE_SECONDS = 300;

/** Secrets Manager answers in tens of milliseconds: an unanswered read is retried by the SDK. */
const SECRETS_MANAGER_CONNECTION_TIMEOUT_MS = 1_000;
const SECRETS_MANAGER_REQUEST_TIMEOUT_MS = 3_000;

/** What no HTTP header value may hold: a line break or another control character, or past U+00FF. */
const NOT_IN_A_HEADER = /[^\t\x20-\xff]/;

/** Reads secrets from Secrets Manager (Powertools Parameters, cached). */
export function createSecretsProvider(instrument: Instrument = (client) => client) {
  // A read has an end: one frozen with the instance mid-flight (see readAhead)
  // fails on thaw and is retried, rather than holding up the request that waits for it.
  const client = new SecretsManagerClient({
    requestHandler: {
      connectionTimeout: SECRETS_MANAGER_CONNECTION_TIMEOUT_MS,
      requestTimeout: SECRETS_MANAGER_REQUEST_TIMEOUT_MS,
      throwOnRequestTimeout: true,
    },
  });
  return new SecretsProvider({ awsSdkV3Client: instrument(client) });
}

/**
 * A secret's value: from Secrets Manager when an ARN is configured — the deployed
 * stack — or a plain value on the local stack.
 */
export function secretSource(options: {
  arn?: string;
  localValue?: string;
  name: string;
  /** What the stack created the secret with, to be replaced by the operator. */
  placeholder?: string;
  /** A token that holds no whitespace: what surrounds it (a file's last newline) is dropped. */
  trimmed?: boolean;
  provider: () => SecretsProvider;
}) {
  const { arn, localValue, name, placeholder } = options;
  if (arn) {
    // One provider for every read: its cache is what keeps Secrets Manager off each model call.
    let provider: SecretsProvider | undefined;
    return async (): Promise<string> => {
      provider ??= options.provider();
      const stored = await provider.get(arn, { maxAge: SECRET_CACHE_SECONDS });
      const value = options.trimmed && typeof stored === 'string' ? stored.trim() : stored;
      if (typeof value !== 'string' || value.length === 0) {
        throw new Error(`secret ${name} (${arn}) has no value: set it in Secrets Manager`);
      }
      if (value === placeholder) {
        throw new Error(
          `secret ${name} (${arn}) still holds the stack's placeholder: put the value in it (aws secretsmanager put-secret-value)`,
        );
      }
      // Refused here, in words that never quote it: the HTTP client's own error would, and
      // every call's log line with it.
      if (options.trimmed && NOT_IN_A_HEADER.test(value)) {
        throw new Error(
          `secret ${name} (${arn}) holds a line break or another character no HTTP header may carry: store the value alone`,
        );
      }
      return value;
    };
  }
  if (localValue) return async () => localValue;
  throw new Error(`no ${name}: configure its secret ARN`);
}

/**
 * The Anthropic API key. `put-secret-value --secret-string file://key.txt` stores the file's
 * newline too, which no HTTP header may carry: every call would fail.
 */
export function anthropicApiKeySource(options: {
  arn?: string;
  localValue?: string;
  provider: () => SecretsProvider;
}) {
  return secretSource({
    ...options,
    name: 'Anthropic API key',
    placeholder: ANTHROPIC_API_KEY_PLACEHOLDER,
    trimmed: true,
  });
}

/**
 * `source` read once at once, in the background: a secret every first request of a new instance
 * needs is then read while the function loads and while the request's own first remote calls
 * are in flight, rather than after them. A use meanwhile waits for that read, whose value the
 * source's cache then holds, or whose failure it fails with: the SDK spent its attempts on it
 * already, and reading again would double the wait for the 503. A use after a read ahead that
 * failed reads again (and fails as it would have). `read` settles once the read ahead has, and
 * never rejects: a Secrets Manager that cannot be reached fails requests, never the instance.
 */
export function readAhead(source: () => Promise<string>): {
  source: () => Promise<string>;
  read: Promise<void>;
} {
  let pending: Promise<string> | undefined = source();
  const done = () => {
    pending = undefined;
  };
  const read = pending.then(done, done);
  return {
    read,
    source: async () => {
      if (pending) await pending;
      return source();
    },
  };
}
