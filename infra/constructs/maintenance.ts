import { Duration } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import { Construct } from 'constructs';
import { MAINTENANCE_FUNCTION } from '../../shared/config/maintenance-function.js';
import { SERVICE } from '../../shared/observability/metric-names.js';
import { FUNCTION_ENTRY } from '../paths.js';
import { ClaudeFunction, type ClaudeFunctionProps } from './claude-function.js';
import { bindTable } from './data-table.js';

export interface MaintenanceProps {
  readonly table: dynamodb.ITable;
  /** Function settings and sizing. */
  readonly function: Omit<ClaudeFunctionProps, 'entry' | 'serviceName' | 'description'>;
  /** @default Duration.minutes(MAINTENANCE_FUNCTION.everyMinutes) */
  readonly every?: Duration;
}

/**
 * A small function on a schedule: it ends the chat turns whose function died (their
 * streamed text kept as `interrupted`, their budget holds settled) and reclaims expired
 * holds, so neither waits for someone to touch the conversation or fill a budget.
 */
export class Maintenance extends Construct {
  public readonly handler: ClaudeFunction;
  public readonly schedule: events.Rule;

  constructor(scope: Construct, id: string, props: MaintenanceProps) {
    super(scope, id);
    this.handler = new ClaudeFunction(this, 'Sweeper', {
      memorySizeMb: MAINTENANCE_FUNCTION.memoryMb,
      timeout: Duration.seconds(MAINTENANCE_FUNCTION.timeoutSeconds),
      ...props.function,
      entry: FUNCTION_ENTRY.maintenance,
      serviceName: SERVICE.maintenance,
      description: 'Claude maintenance: ends dead turns, reclaims expired budget holds',
    });
    bindTable(this.handler, props.table);
    this.schedule = new events.Rule(this, 'Schedule', {
      description: 'Runs the maintenance sweep',
      schedule: events.Schedule.rate(
        props.every ?? Duration.minutes(MAINTENANCE_FUNCTION.everyMinutes),
      ),
      targets: [new targets.LambdaFunction(this.handler.function, { retryAttempts: 0 })],
    });
    // The schedule invokes it asynchronously: Lambda's own two retries would run a failed
    // sweep three times over the next run's. The next run is the retry.
    this.handler.function.configureAsyncInvoke({
      retryAttempts: 0,
      maxEventAge: Duration.minutes(1),
    });
  }
}
