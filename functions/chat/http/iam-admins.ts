import { createHash } from 'node:crypto';
import { IAM_USER_ID_PREFIX } from '../../../shared/auth/user-id.js';

// A role's session as SigV4 names its caller; the role's own ARN may carry a path it lacks.
const ASSUMED_ROLE = /^arn:(aws[a-z-]*):sts::(\d{12}):assumed-role\/([^/]+)\/[^/]+$/;

/**
 * The caller's IAM ARN as a user id, when the function URL verified it (AWS_IAM) and
 * `admins` lists it: the ARN itself or, for a session of a role, the role's ARN (a caller
 * with a role always arrives as `arn:aws:sts::…:assumed-role/<role>/<session>`).
 */
export function adminIamPrincipal(event: unknown, admins: readonly string[]): string | undefined {
  if (admins.length === 0) return undefined;
  const { requestContext } = event as {
    requestContext?: { authorizer?: { iam?: { userArn?: unknown } } };
  };
  const arn = requestContext?.authorizer?.iam?.userArn;
  if (typeof arn !== 'string' || !isListed(arn, admins)) return undefined;
  return iamUserId(arn);
}

/** As long as a user id may be (USER_ID_PATTERN). */
const USER_ID_MAX_CHARS = 128;

/**
 * The user id of an IAM caller: `iam:` and its ARN, each `/` as `_`. One that would not
 * fit in a user id, or has another character a user id cannot hold (`=` or `,` of a
 * session name), is cut and ends with a digest of the whole ARN after `|`, which no ARN
 * holds: two sessions of a long-named role whose names differ only past the cut (or in
 * `=` for `,`) must not be one user, sharing conversations, jobs and budget.
 */
function iamUserId(arn: string): string {
  const id = `${IAM_USER_ID_PREFIX}${arn.replaceAll('/', '_')}`;
  if (id.length <= USER_ID_MAX_CHARS && /^[\w.@:+-]+$/.test(id)) return id;
  const digest = createHash('sha256').update(arn).digest('hex').slice(0, 32);
  const kept = id.replace(/[^\w.@:+-]/g, '_').slice(0, USER_ID_MAX_CHARS - digest.length - 1);
  return `${kept}|${digest}`;
}

function isListed(arn: string, admins: readonly string[]): boolean {
  if (admins.includes(arn)) return true;
  const session = ASSUMED_ROLE.exec(arn);
  if (!session) return false;
  const [, partition, account, role] = session;
  const prefix = `arn:${partition}:iam::${account}:role/`;
  return admins.some(
    (admin) => admin.startsWith(prefix) && admin.slice(prefix.length).split('/').at(-1) === role,
  );
}
