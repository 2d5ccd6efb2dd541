import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { Tracer } from '@aws-lambda-powertools/tracer';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createDocumentClient, createDynamoDbClient } from '../../shared/adapters/aws/clients.js';
import { DynamoApiKeyStore } from '../../shared/adapters/dynamodb/api-key-store.js';
import { DynamoBudgetNotices } from '../../shared/adapters/dynamodb/budget-notices.js';
import { DynamoConversationStore } from '../../shared/adapters/dynamodb/conversation-store.js';
import { DynamoUsageLedger } from '../../shared/adapters/dynamodb/usage-ledger.js';
import { DynamoUsageRecords } from '../../shared/adapters/dynamodb/usage-records.js';
import { createEventPublisher } from '../../shared/adapters/sns/sns-event-publisher.js';
import { createTracer } from '../../shared/adapters/tracing/create-tracer.js';
import { createBudgetWatch } from '../../shared/budget/budget-watch.js';
import { createGlobalBudgetUsed } from '../../shared/budget/global-budget-used.js';
import { createKeyBudgetWatch } from '../../shared/budget/key-budget-watch.js';
import { createMonthBudgetsSweep } from '../../shared/budget/month-budgets-sweep.js';
import type { Settings } from '../../shared/config/load-settings.js';
import { type Clock, systemClock } from '../../shared/domain/clock.js';
import {
  logAbandonedCall,
  reportUnrecordedCall,
} from '../../shared/observability/abandoned-calls.js';
import { SERVICE } from '../../shared/observability/metric-names.js';
import {
  logRecoveredTurn,
  recordRecoveredSpend,
  reportUnrecordedTurn,
} from '../../shared/observability/recovered-turns.js';
import { recordSpend } from '../../shared/observability/spend-metrics.js';
import type { ApiKeyStore } from '../../shared/ports/api-key-store.js';
import type { BudgetNotices } from '../../shared/ports/budget-notices.js';
import type { ConversationStore } from '../../shared/ports/conversation-store.js';
import type { EventPublisher } from '../../shared/ports/event-publisher.js';
import type { UsageLedger } from '../../shared/ports/usage-ledger.js';
import type { UsageRecords } from '../../shared/ports/usage-records.js';
import { createTurnRecovery } from '../../shared/turns/recover-turn.js';
import { createTurnSweeper } from '../../shared/turns/sweep-turns.js';
import { createAbandonedCallRecorder } from '../../shared/usage/record-abandoned-call.js';
import { createMaintenanceHandler } from './app.js';

export interface MaintenanceAdapters {
  store: ConversationStore;
  ledger: UsageLedger;
  usageRecords: UsageRecords;
  /** Reads a key's budget, for its budget events. */
  apiKeys: Pick<ApiKeyStore, 'get'>;
  budgetNotices: BudgetNotices;
  events: EventPublisher;
  logger: Logger;
  metrics: Metrics;
  tracer: Tracer;
}

/** The sweep checks the budgets of the month's biggest spenders (principals and API keys), at most this many of each a run. */
const BUDGET_WATCH_TOP = 1000;

/** What tests may watch as the adapters are made. */
export interface MaintenanceHooks {
  /** Sees the DynamoDB client (its middleware stack) before any call. */
  observeDynamoDb?: (client: DynamoDBClient) => void;
}

export function createMaintenanceAdapters(
  settings: Settings,
  hooks: MaintenanceHooks = {},
): MaintenanceAdapters {
  const tracer = createTracer(SERVICE.maintenance);
  const dynamodb = createDynamoDbClient(settings.dynamodbEndpoint, (client) =>
    tracer.captureAWSv3Client(client),
  );
  hooks.observeDynamoDb?.(dynamodb);
  const documentClient = createDocumentClient(dynamodb);
  return {
    store: new DynamoConversationStore(documentClient, settings.tableName),
    ledger: new DynamoUsageLedger(
      documentClient,
      settings.tableName,
      settings.globalMonthlyBudgetUsd,
    ),
    usageRecords: new DynamoUsageRecords(documentClient, settings.tableName),
    apiKeys: new DynamoApiKeyStore(documentClient, settings.tableName),
    budgetNotices: new DynamoBudgetNotices(documentClient, settings.tableName),
    events: createEventPublisher(settings, (client) => tracer.captureAWSv3Client(client)),
    logger: new Logger({ serviceName: SERVICE.maintenance }),
    metrics: new Metrics({
      namespace: settings.powertoolsMetricsNamespace,
      serviceName: SERVICE.maintenance,
    }),
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
  const recover = createTurnRecovery({
    store,
    ledger,
    usageRecords: adapters.usageRecords,
    prices: settings.prices,
    clock,
    onRecovered: (turn) => {
      logRecoveredTurn(adapters.logger, turn);
      // Published with the sweep's other metrics as its run ends.
      recordRecoveredSpend(adapters.metrics, turn);
    },
    onUsageNotRecorded: (turn, error) =>
      reportUnrecordedTurn(adapters.logger, adapters.metrics, turn, error),
  });
  const recordAbandonedCall = createAbandonedCallRecorder({
    usageRecords: adapters.usageRecords,
    clock,
    onNotRecorded: (call, error) =>
      reportUnrecordedCall(adapters.logger, adapters.metrics, call, error),
  });
  const budgetWatch = createBudgetWatch({
    ledger,
    notices: adapters.budgetNotices,
    events: adapters.events,
    clock,
    limits: settings,
  });
  const keyBudgetWatch = createKeyBudgetWatch({
    apiKeys: adapters.apiKeys,
    ledger,
    notices: adapters.budgetNotices,
    events: adapters.events,
    clock,
  });
  return createMaintenanceHandler({
    ...adapters,
    sweep: createTurnSweeper({
      ledger,
      recover,
      clock,
      onFailed: (turn, error) => adapters.logger.warn('could not check a turn', { ...turn, error }),
      // Published with the sweep's other metrics as its run ends.
      onSettled: (counted) => recordSpend(adapters.metrics, counted),
      onReclaimFailed: (error) =>
        adapters.logger.warn('could not reclaim the expired holds', { error }),
      recordAbandoned: async (call) => {
        logAbandonedCall(adapters.logger, call);
        await recordAbandonedCall(call);
      },
    }),
    globalBudgetUsed: createGlobalBudgetUsed({
      ledger,
      clock,
      globalMonthlyBudgetUsd: settings.globalMonthlyBudgetUsd,
    }),
    // The deployment's spend, and each principal's and API key's the month's usage report
    // shows (the worker also checks its jobs' users as they spend).
    watchBudgets: createMonthBudgetsSweep({
      budgetWatch,
      keyBudgetWatch,
      usageRecords: adapters.usageRecords,
      clock,
      top: BUDGET_WATCH_TOP,
    }),
  });
}
