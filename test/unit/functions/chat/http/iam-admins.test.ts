import { describe, expect, it } from 'vitest';
import { adminIamPrincipal } from '../../../../../functions/chat/http/iam-admins.js';
import { isUserId } from '../../../../../shared/auth/user-id.js';

const callerOf = (userArn: unknown) => ({ requestContext: { authorizer: { iam: { userArn } } } });

describe('adminIamPrincipal', () => {
  const user = 'arn:aws:iam::123456789012:user/ops';
  const role = 'arn:aws:iam::123456789012:role/platform/Admin';

  it('admits a listed user as itself', () => {
    expect(adminIamPrincipal(callerOf(user), [user])).toBe(
      'iam:arn:aws:iam::123456789012:user_ops',
    );
  });

  it('admits every session of a listed role, its path or not, as the session', () => {
    const session = 'arn:aws:sts::123456789012:assumed-role/Admin/jane@example.com';
    expect(adminIamPrincipal(callerOf(session), [role])).toBe(
      'iam:arn:aws:sts::123456789012:assumed-role_Admin_jane@example.com',
    );
    expect(adminIamPrincipal(callerOf(session), ['arn:aws:iam::123456789012:role/Admin'])).toBe(
      'iam:arn:aws:sts::123456789012:assumed-role_Admin_jane@example.com',
    );
  });

  it('keeps two sessions of a long-named role apart when their names differ only past 128 characters', () => {
    const role = `arn:aws:iam::123456789012:role/AWSReservedSSO_PlatformEngineeringAdministrators_${'0'.repeat(16)}`;
    const session = (name: string) =>
      `arn:aws:sts::123456789012:assumed-role/${role.split('/').at(-1)}/${name}`;
    const jane = adminIamPrincipal(callerOf(session('jane.doe@platform.example.com')), [role]);
    const jan = adminIamPrincipal(callerOf(session('jane.doe@platform.example.org')), [role]);
    expect(jane).not.toBe(jan);
    for (const id of [jane, jan]) expect(isUserId(id!), id).toBe(true);
  });

  it('keeps sessions whose names differ only in a character a user id cannot hold apart', () => {
    const sessions = ['ops=1', 'ops,1', 'ops_1'].map((name) =>
      adminIamPrincipal(callerOf(`arn:aws:sts::123456789012:assumed-role/Admin/${name}`), [role]),
    );
    expect(new Set(sessions).size).toBe(3);
    for (const id of sessions) expect(isUserId(id!), id).toBe(true);
  });

  it('refuses a session of another role, account or partition, and a role named only in part', () => {
    for (const session of [
      'arn:aws:sts::123456789012:assumed-role/Administrator/jane',
      'arn:aws:sts::123456789012:assumed-role/Adm/jane',
      'arn:aws:sts::210987654321:assumed-role/Admin/jane',
      'arn:aws-cn:sts::123456789012:assumed-role/Admin/jane',
      'arn:aws:sts::123456789012:assumed-role/Admin',
      'arn:aws:iam::123456789012:role/platform/Admin/extra',
    ]) {
      expect(adminIamPrincipal(callerOf(session), [role]), session).toBeUndefined();
    }
  });

  it('refuses a caller SigV4 did not name, and everyone when no admin is listed', () => {
    expect(adminIamPrincipal({}, [user])).toBeUndefined();
    expect(adminIamPrincipal(callerOf(42), [user])).toBeUndefined();
    expect(adminIamPrincipal(callerOf(user), [])).toBeUndefined();
  });
});
