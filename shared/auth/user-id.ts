/** The user ids a principal (a token's `sub`, a team) may have: they become parts of table keys. */
const USER_ID = /^[\w.@|:+-]{1,128}$/;

export function isUserId(value: string): boolean {
  return USER_ID.test(value);
}

/** The user ids of the admins an AWS_IAM function URL admits by their ARN: no token may claim one. */
export const IAM_USER_ID_PREFIX = 'iam:';
