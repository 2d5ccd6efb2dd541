import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { TokenVerifier } from '../../shared/auth/token-verifier.js';
import type { LoadedSettings } from '../../shared/config/load-settings.js';
import type { ConversationStore } from '../../shared/ports/conversation-store.js';
import type { JobQueue } from '../../shared/ports/job-queue.js';
import type { JobStore } from '../../shared/ports/job-store.js';
import type { Model } from '../../shared/ports/model.js';
import type { RateLimiter } from '../../shared/ports/rate-limiter.js';
import type { UsageLedger } from '../../shared/ports/usage-ledger.js';

/** Everything the chat function's use cases need, built once by the composition root. */
export interface ChatDependencies {
  settings: LoadedSettings;
  store: ConversationStore;
  model: Model;
  ledger: UsageLedger;
  jobs: JobStore;
  queue: JobQueue;
  rateLimiter: RateLimiter;
  /** Samples month-to-date global spend into the metrics, now and then. */
  sampleBudget: (metrics: Metrics, nowMs: number) => Promise<void>;
  verifier: TokenVerifier;
  logger: Logger;
  /** A fresh metrics collector per request, published when its work ends. */
  createMetrics: () => Metrics;
  /** Probes for GET /health: each resolves when its dependency is usable. */
  healthChecks: Record<string, () => Promise<void>>;
  clock?: () => number;
  /** How often a streaming turn checks for a stop request. @default 250 */
  stopPollIntervalMs?: number;
  /** How often an idle stream gets a `: ping` comment. @default 15000 */
  pingIntervalMs?: number;
}
