import { Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { synthesize } from './synth.js';

interface Acknowledged {
  path: string;
  id: string;
  reason: string;
}

/**
 * Every acknowledgement recorded with Validations.of(...).acknowledge, with where it
 * is: metadata entries `{ "Annotation::<rule id>": reason }`.
 */
function acknowledgements(root: IConstruct): Acknowledged[] {
  return root.node.findAll().flatMap((construct) =>
    construct.node.metadata
      .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((entry) => Object.entries(entry.data as Record<string, string>))
      .map(([id, reason]) => ({
        path: construct.node.path,
        id: id.replace(/^Annotation::/, ''),
        reason,
      })),
  );
}

/** AwsSolutions on the app; a finding is `rule at construct path: description`. */
function findings(root: IConstruct): string[] {
  const report = new AwsSolutionsChecks(root).validateScope(root);
  return report.violations.flatMap((violation) =>
    violation.violatingResources.map(
      (resource) =>
        `${violation.ruleName} at ${resource.constructPath ?? resource.resourceLogicalId}: ${violation.description}`,
    ),
  );
}

// Each configuration takes a different path through the constructs.
const configurations: [string, Record<string, unknown>][] = [
  ['the defaults', {}],
  [
    'OIDC, imported Anthropic key, IAM-authenticated URL, CORS, reserved concurrency, alarm e-mail',
    {
      authMode: 'oidc',
      jwtIssuer: 'https://issuer.example',
      jwtAudience: 'api',
      anthropicApiKeySecretArn:
        'arn:aws:secretsmanager:eu-west-1:123456789012:secret:anthropic-AbCdEf',
      functionUrlAuthType: 'AWS_IAM',
      corsAllowedOrigins: 'https://app.example',
      chatReservedConcurrency: 50,
      workerReservedConcurrency: 10,
      alarmEmail: 'oncall@example.com',
      removalPolicy: 'destroy',
      tableDeletionProtection: false,
    },
  ],
];

describe.each(configurations)('cdk-nag AwsSolutions with %s', (_name, context) => {
  const { app } = synthesize({ context });

  it('has no unacknowledged finding', () => {
    expect(findings(app)).toEqual([]);
  });

  it('gives a reason for every acknowledgement', () => {
    const acknowledged = acknowledgements(app);
    expect(acknowledged.length).toBeGreaterThan(0);
    for (const rule of acknowledged) {
      expect(rule.reason.length, `${rule.id} at ${rule.path}`).toBeGreaterThan(30);
    }
  });
});

describe('cdk-nag acknowledgements', () => {
  it('are only the reviewed ones', () => {
    const { app } = synthesize();
    const ids = acknowledgements(app).map((rule) => `${rule.path} ${rule.id}`);
    expect(ids.sort()).toEqual(
      [
        'ClaudeServerless/ChatApi/Chat/Role AwsSolutions-IAM5[Resource::<DataTableFDBAD0F2.Arn>/index/*]',
        'ClaudeServerless/ChatApi/Chat/Role AwsSolutions-IAM5[Resource::*]',
        'ClaudeServerless/Jobs/Worker/Role AwsSolutions-IAM5[Resource::<DataTableFDBAD0F2.Arn>/index/*]',
        'ClaudeServerless/Jobs/Worker/Role AwsSolutions-IAM5[Resource::*]',
        'ClaudeServerless/Maintenance/Sweeper/Role AwsSolutions-IAM5[Resource::<DataTableFDBAD0F2.Arn>/index/*]',
        'ClaudeServerless/Maintenance/Sweeper/Role AwsSolutions-IAM5[Resource::*]',
        'ClaudeServerless/ChatApi/Chat/Role AwsSolutions-IAM5[Action::kms:GenerateDataKey*]',
        'ClaudeServerless/Jobs/Worker/Role AwsSolutions-IAM5[Action::kms:GenerateDataKey*]',
        'ClaudeServerless/Maintenance/Sweeper/Role AwsSolutions-IAM5[Action::kms:GenerateDataKey*]',
        'ClaudeServerless/Secrets/AnthropicApiKey AwsSolutions-SMG4',
        'ClaudeServerless/Secrets/JwtSecret AwsSolutions-SMG4',
        'ClaudeServerless/Secrets/SigningKey AwsSolutions-SMG4',
      ].sort(),
    );
  });
});
