/**
 * The user ids a principal (a token's `sub`, a team) may have: they become parts of table
 * keys. Not only dots: a URL path's `.` and `..` segments are resolved away before any
 * route sees them, so the admin API could never name such a principal.
 */
export const USER_ID_PATTERN = /^(?!\.+$)[\w.@|:+-]{1,128}$/;

export function isUserId(value: string): boolean {
  return USER_ID_PATTERN.test(value);
}

/** The user ids of the admins an AWS_IAM function URL admits by their ARN: no token may claim one. */
export const IAM_USER_ID_PREFIX = 'iam:';
