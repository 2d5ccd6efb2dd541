import type { CfnTemplate, PolicyStatement } from '../../infra/synth.js';

/**
 * A template value as a string: a reference to a resource (`Ref`, or `Fn::GetAtt` of its ARN)
 * becomes `{LogicalId}`, `Fn::Join` is joined. What IAM matches against (`*` and `?` wildcards)
 * then sees the stack's own ARNs as these tokens.
 */
export function rendered(value: unknown): string {
  if (typeof value === 'string') return value;
  const token = value as {
    Ref?: string;
    'Fn::GetAtt'?: [string, string];
    'Fn::Join'?: [string, unknown[]];
  };
  if (token.Ref) return `{${token.Ref}}`;
  const getAtt = token['Fn::GetAtt'];
  if (getAtt && ['Arn', 'TopicArn'].includes(getAtt[1])) return `{${getAtt[0]}}`;
  const join = token['Fn::Join'];
  if (join) return join[1].map(rendered).join(join[0]);
  throw new Error(`cannot read ${JSON.stringify(value)} as an ARN`);
}

function matches(pattern: string, value: string, ignoreCase = false): boolean {
  const source = pattern
    .split('')
    .map((char) =>
      char === '*' ? '.*' : char === '?' ? '.' : char.replace(/[.+^${}()|[\]\\]/g, '\\$&'),
    )
    .join('');
  return new RegExp(`^${source}$`, ignoreCase ? 'i' : '').test(value);
}

const applies = (statement: PolicyStatement, action: string, resource: string) =>
  [statement.Action].flat().some((pattern) => matches(pattern, action, true)) &&
  [statement.Resource].flat().some((pattern) => matches(rendered(pattern), resource));

/**
 * Whether identity-policy statements allow `action` on `resource`: an Allow applies and no
 * Deny does. Statements this evaluator cannot judge (NotAction, NotResource, conditions on an
 * Allow) are refused rather than guessed at.
 */
export function allows(statements: PolicyStatement[], action: string, resource: string): boolean {
  for (const statement of statements) {
    const unsupported = ['NotAction', 'NotResource', 'Condition'].filter((key) => key in statement);
    if (unsupported.length > 0) {
      throw new Error(`cannot evaluate ${unsupported.join(', ')} in ${JSON.stringify(statement)}`);
    }
  }
  const denied = statements.some((s) => s.Effect === 'Deny' && applies(s, action, resource));
  return !denied && statements.some((s) => s.Effect === 'Allow' && applies(s, action, resource));
}

/**
 * The customer managed key behind a resource's encryption, as a `{LogicalId}` token (or the
 * ARN an operator gave): none for AWS owned or AWS managed keys, which need no grant.
 */
export function customerKeyOf(json: CfnTemplate, logicalId: string): string | undefined {
  const properties = json.Resources[logicalId]?.Properties ?? {};
  const key =
    properties.KmsMasterKeyId ??
    properties.KmsKeyId ??
    (properties.SSESpecification as { KMSMasterKeyId?: unknown } | undefined)?.KMSMasterKeyId;
  if (key === undefined) return undefined;
  const token = rendered(key);
  return /^(arn:aws[^:]*:kms:[^:]*:[^:]*:)?alias\/aws\//.test(token) ? undefined : token;
}

/**
 * Whether a key of the stack lets IAM policies grant its use: its key policy allows the
 * account (root), as CDK's default policy does. Without it an identity policy grants nothing.
 */
export function keyDelegatesToIam(json: CfnTemplate, keyToken: string): boolean {
  const id = /^\{(.+)\}$/.exec(keyToken)?.[1];
  if (!id) return true; // An imported key: its policy is the operator's.
  const policy = json.Resources[id]?.Properties?.KeyPolicy as
    | { Statement: (PolicyStatement & { Principal?: { AWS?: unknown } })[] }
    | undefined;
  return (policy?.Statement ?? []).some(
    (statement) =>
      statement.Effect === 'Allow' &&
      [statement.Action].flat().includes('kms:*') &&
      /:root$/.test(rendered(statement.Principal?.AWS ?? '')),
  );
}
