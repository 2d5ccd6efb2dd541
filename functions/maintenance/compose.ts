import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { createDocumentClient, createDynamoDbClient } from '../../shared/adapters/aws/clients.js';
import { DynamoConversationStore } from '../../shared/adapters/dynamodb/conversation-store.js';
import { DynamoUsageLedger } from '../../shared/adapters/dynamodb/usage-ledger.js';
import type { Settings } from '../../shared/config/load-settings.js';
import { type Clock, systemClock } from '../../shared/domain/clock.js';
import { METRICS_NAMESPACE, SERVICE } from '../../shared/observability/metric-names.js';
import type { ConversationStore } from '../../shared/ports/conversation-store.js';
import type { UsageLedger } from '../../shared/ports/usage-ledger.js';
import { createTurnRecovery } from '../../shared/turns/recover-turn.js';
import { createTurnSweeper } from '../../shared/turns/sweep-turns.js';
import { createMaintenanceHandler } from './app.js';

export interface MaintenanceAdapters {
  store: ConversationStore;
  ledger: UsageLedger;
  logger: Logger;
  metrics: Metrics;
  tracer: Tracer;
}

export function createMaintenanceAdapters(settings: Settings): MaintenanceAdapters {
  const tracer = new Tracer({ serviceName: SERVICE.maintenance });
  const documentClient = createDocumentClient(
    createDynamoDbClient(settings.dynamodbEndpoint, (client) => tracer.captureAWSv3Client(client)),
  );
  return {
    store: new DynamoConversationStore(documentClient, settings.tableName),
    ledger: new DynamoUsageLedger(
      documentClient,
      settings.tableName,
      settings.globalMonthlyBudgetUsd,
    ),
    logger: new Logger({ serviceName: SERVICE.maintenance }),
    metrics: new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SERVICE.maintenance }),
    tracer,
  };
}

export function composeMaintenance(
  settings: Settings,
  adapters: MaintenanceAdapters,
  tuning: { clock?: Clock } = {},
) {
  const clock = tuning.clock ?? systemClock;
  const { store, ledger } = adapters;
  const recover = createTurnRecovery({ store, ledger, prices: settings.prices, clock });
  return createMaintenanceHandler({
    ...adapters,
    sweep: createTurnSweeper({ ledger, recover, clock }),
  });
}
