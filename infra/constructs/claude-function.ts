import { join, relative } from 'node:path';
import {
  AssetHashType,
  Duration,
  type ILocalBundling,
  RemovalPolicy,
  Validations,
} from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { envNameOf, type FunctionSettingKey } from '../../shared/config/settings.js';
import { bundleFunction, SOURCE_MAPS_NODE_OPTIONS } from '../bundling.js';
import { PROJECT_ROOT } from '../paths.js';
import { EnvironmentSizeLimit } from './environment-size.js';

export interface ClaudeFunctionProps {
  /** Absolute path of the handler's TypeScript entry file; it must export `handler`. */
  readonly entry: string;
  /** Powertools service name: the `service` dimension of every metric it emits. */
  readonly serviceName: string;
  /** The namespace of every metric it emits: its stack's (metricsNamespaceOf), which the stack's alarms read. */
  readonly metricsNamespace: string;
  readonly description: string;
  /** @default 1024 */
  readonly memorySizeMb?: number;
  /** @default Duration.seconds(30) */
  readonly timeout?: Duration;
  /** @default none: the function uses the account's unreserved concurrency */
  readonly reservedConcurrency?: number;
  /** What Lambda does on finding the function in a loop through its own queue. @default Terminate */
  readonly recursiveLoop?: lambda.RecursiveLoop;
  /** @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
  /** What happens to the log group when it leaves the stack. @default RemovalPolicy.RETAIN */
  readonly logRemovalPolicy?: RemovalPolicy;
  /** Powertools log level. @default 'INFO' */
  readonly logLevel?: string;
  /** X-Ray active tracing and Powertools Tracer. @default true */
  readonly tracing?: boolean;
  /** Stack traces through the source maps (Node's --enable-source-maps). @default false */
  readonly sourceMaps?: boolean;
  /** The functions' settings in environment form (see functionEnvironment); add more with {@link setSetting}. @default none */
  readonly environment?: Readonly<Record<string, string>>;
}

/**
 * Every Lambda default in one place: Node.js 24 on arm64, a local esbuild ESM bundle
 * (no Docker) split into an entry and lazily loaded chunks, AWS SDK included, with source
 * maps (see infra/bundling.ts), an explicit log group with retention, a role of its own
 * (no managed policies), Powertools settings.
 */
export class ClaudeFunction extends Construct {
  public readonly function: lambda.Function;
  public readonly role: iam.Role;
  public readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: ClaudeFunctionProps) {
    super(scope, id);
    const tracing = props.tracing ?? true;

    this.logGroup = new logs.LogGroup(this, 'LogGroup', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: props.logRemovalPolicy ?? RemovalPolicy.RETAIN,
    });
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `${props.description}: execution role`,
    });
    this.logGroup.grantWrite(this.role);

    // NodejsFunction cannot split code (it passes esbuild `--outfile`), so the bundle is
    // built here, by the same function the benchmark measures.
    const code = lambda.Code.fromAsset(PROJECT_ROOT, {
      assetHashType: AssetHashType.OUTPUT,
      bundling: {
        // Required by the type; never pulled: local bundling always succeeds or throws.
        image: lambda.Runtime.NODEJS_24_X.bundlingImage,
        local: new LocalBundler(props.entry),
      },
    });
    this.function = new lambda.Function(this, 'Function', {
      code,
      handler: 'index.handler',
      description: props.description,
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySizeMb ?? 1024,
      timeout: props.timeout ?? Duration.seconds(30),
      reservedConcurrentExecutions: props.reservedConcurrency,
      recursiveLoop: props.recursiveLoop,
      role: this.role,
      logGroup: this.logGroup,
      tracing: tracing ? lambda.Tracing.ACTIVE : lambda.Tracing.DISABLED,
      environment: {
        POWERTOOLS_SERVICE_NAME: props.serviceName,
        [envNameOf('powertoolsMetricsNamespace')]: props.metricsNamespace,
        POWERTOOLS_TRACE_ENABLED: String(tracing),
        LOG_LEVEL: props.logLevel ?? 'INFO',
        ...(props.sourceMaps && { NODE_OPTIONS: SOURCE_MAPS_NODE_OPTIONS }),
        ...props.environment,
      },
    });
    this.node.addValidation(new EnvironmentSizeLimit(this.function));
    if (tracing) {
      Validations.of(this.role).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'Active tracing grants xray:PutTraceSegments and xray:PutTelemetryRecords, which support no resource-level permissions; an infra test checks * is granted for nothing else.',
      });
    }
  }

  /** Sets one setting the function reads (shared/config/settings.ts), under its environment name. */
  setSetting(key: FunctionSettingKey, value: string): void {
    this.function.addEnvironment(envNameOf(key), value);
  }
}

/**
 * esbuild in this process, no Docker. CDK keys its bundling cache on the bundling options'
 * JSON, so the entry is a property: without it every function would get the first bundle.
 */
class LocalBundler implements ILocalBundling {
  readonly entry: string;

  constructor(entry: string) {
    this.entry = relative(PROJECT_ROOT, entry);
  }

  tryBundle(outputDir: string): boolean {
    bundleFunction(join(PROJECT_ROOT, this.entry), outputDir);
    return true;
  }
}
