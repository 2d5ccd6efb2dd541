import { getSecret } from '@aws-lambda-powertools/parameters/secrets';

/** Secrets are cached this long per execution environment, so rotation is picked up. */
const SECRET_CACHE_SECONDS = 300;

/**
 * A secret's value: from Secrets Manager (Powertools Parameters, cached) when an ARN
 * is configured — the deployed stack — or a plain value on the local stack.
 */
export function secretSource(options: { arn?: string; localValue?: string; name: string }) {
  const { arn, localValue, name } = options;
  if (arn) {
    return async (): Promise<string> => {
      const value = await getSecret(arn, { maxAge: SECRET_CACHE_SECONDS });
      if (typeof value !== 'string' || value.length === 0) {
        throw new Error(`secret ${name} (${arn}) has no value: set it in Secrets Manager`);
      }
      return value;
    };
  }
  if (localValue) return async () => localValue;
  throw new Error(`no ${name}: configure its secret ARN`);
}
