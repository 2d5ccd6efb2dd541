import { type ApiKeyGrant, grantOf } from '../../shared/domain/api-key.js';
import type { Clock } from '../../shared/domain/clock.js';
import type { ApiKeyStore } from '../../shared/ports/api-key-store.js';
import { PermanentJobError } from './job-errors.js';

/**
 * The API key a job's next call is held to, as the key is now: its own budget binds the
 * call, beside its user's and the deployment's; undefined for a job asked for without a key.
 * @throws PermanentJobError when the key was revoked or expired since (the job fails, its
 *   message fine) or is not one of the job's user's (the message is at fault: dead-lettered)
 */
export type JobKeyGrant = (job: {
  userId: string;
  apiKeyId?: string;
}) => Promise<ApiKeyGrant | undefined>;

/**
 * Reads the key before each call rather than trusting what it was when the job was queued:
 * a budget lowered, or a key revoked, while its jobs wait binds them as it binds its
 * requests (one read per model call, against a call that costs far more).
 */
export function createJobKeyGrant(deps: {
  apiKeys: Pick<ApiKeyStore, 'get'>;
  clock: Clock;
}): JobKeyGrant {
  return async ({ userId, apiKeyId }) => {
    if (apiKeyId === undefined) return undefined;
    const key = await deps.apiKeys.get(apiKeyId);
    if (key?.principal !== userId) {
      throw new PermanentJobError(
        'permission_error',
        `the job names API key ${apiKeyId}, which is not one of ${JSON.stringify(userId)}'s keys`,
      );
    }
    const spendsNoMore = 'the job spends nothing more on it; ask for it again with a valid key';
    if (key.revokedAt !== undefined) {
      throw new PermanentJobError(
        'authentication_error',
        `the API key this job was asked for with (${apiKeyId}) was revoked at ${key.revokedAt}: ${spendsNoMore}`,
        false,
      );
    }
    if (key.expiresAt !== undefined && Date.parse(key.expiresAt) <= deps.clock()) {
      throw new PermanentJobError(
        'authentication_error',
        `the API key this job was asked for with (${apiKeyId}) expired at ${key.expiresAt}: ${spendsNoMore}`,
        false,
      );
    }
    return grantOf(key);
  };
}
