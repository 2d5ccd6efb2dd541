import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { type InfraConfig, loadInfraConfig } from '../../infra/config.js';
import { PROJECT_ROOT } from '../../infra/paths.js';
import { ClaudeServerlessStack } from '../../infra/stack.js';

/** cdk.json's context (CDK feature flags only): `new App()` outside the CLI does not read it. */
export function cdkJsonContext(): Record<string, unknown> {
  const cdkJson = JSON.parse(readFileSync(join(PROJECT_ROOT, 'cdk.json'), 'utf8')) as {
    context: Record<string, unknown>;
  };
  return cdkJson.context;
}

export interface SynthOptions {
  /** Context values over cdk.json's, as `-c` would give them. */
  readonly context?: Record<string, unknown>;
  /** Run esbuild. @default false: the tests that do not look at code skip bundling */
  readonly bundle?: boolean;
  /** Where the cloud assembly goes. @default a temporary directory */
  readonly outdir?: string;
}

export interface Synthesized {
  readonly app: App;
  readonly stack: ClaudeServerlessStack;
  readonly config: InfraConfig;
  readonly template: Template;
  /** The synthesized template as plain JSON. */
  readonly json: CfnTemplate;
}

export interface CfnResource {
  Type: string;
  Properties?: Record<string, unknown>;
  [key: string]: unknown;
}

export interface CfnTemplate {
  Resources: Record<string, CfnResource>;
  Outputs?: Record<string, { Value: unknown; Description?: string }>;
}

/** The stack as `cdk synth` builds it (same context, same config), without cdk-nag. */
export function synthesize(options: SynthOptions = {}): Synthesized {
  const app = new App({
    ...(options.outdir && { outdir: options.outdir }),
    context: {
      ...cdkJsonContext(),
      ...(!options.bundle && { 'aws:cdk:bundling-stacks': [] }),
      ...options.context,
    },
  });
  const config = loadInfraConfig(app.node.getAllContext());
  const stack = new ClaudeServerlessStack(app, config.stackName, { config });
  const template = Template.fromStack(stack);
  return { app, stack, config, template, json: template.toJSON() as CfnTemplate };
}

/** The logical id CloudFormation knows a construct's resource by. */
export function logicalId(stack: ClaudeServerlessStack, ref: string): string {
  const resolved = stack.resolve(ref) as { Ref?: string; 'Fn::GetAtt'?: [string, string] };
  const id = resolved.Ref ?? resolved['Fn::GetAtt']?.[0];
  if (!id) throw new Error(`not a reference to a resource: ${JSON.stringify(resolved)}`);
  return id;
}

/** A resource's properties; throws when the template has no such resource. */
export function propertiesOf<T = Record<string, unknown>>(json: CfnTemplate, id: string): T {
  const resource = json.Resources[id];
  if (!resource) throw new Error(`no resource ${id} in the template`);
  return (resource.Properties ?? {}) as T;
}

/** A function's environment variables, references left as CloudFormation wrote them. */
export function environmentOf(json: CfnTemplate, functionId: string): Record<string, unknown> {
  return propertiesOf<{ Environment: { Variables: Record<string, unknown> } }>(json, functionId)
    .Environment.Variables;
}

export interface PolicyStatement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
}

/** Every statement of the policies attached to a role, flattened. */
export function statementsOfRole(json: CfnTemplate, roleLogicalId: string): PolicyStatement[] {
  return Object.values(json.Resources)
    .filter((resource) => resource.Type === 'AWS::IAM::Policy')
    .filter((policy) =>
      ((policy.Properties?.Roles ?? []) as unknown[]).some(
        (role) => (role as { Ref?: string }).Ref === roleLogicalId,
      ),
    )
    .flatMap(
      (policy) =>
        (policy.Properties as { PolicyDocument: { Statement: PolicyStatement[] } }).PolicyDocument
          .Statement,
    );
}

/** The actions a role may take on a resource (matched by logical id). */
export function actionsOn(statements: PolicyStatement[], resourceLogicalId: string): string[] {
  return statements
    .filter((statement) => statement.Effect === 'Allow')
    .filter((statement) => JSON.stringify(statement.Resource).includes(`"${resourceLogicalId}"`))
    .flatMap((statement) => [statement.Action].flat());
}
