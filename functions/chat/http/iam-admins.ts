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
  return `${IAM_USER_ID_PREFIX}${arn.replace(/[^\w.@|:+-]/g, '_')}`.slice(0, 128);
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
