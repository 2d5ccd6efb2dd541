import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { nanoToUsd } from '../../shared/domain/pricing/model-price.js';
import { maxTokensOf } from '../../shared/domain/tokens.js';
import { addUsage, type TokenUsage, ZERO_USAGE } from '../../shared/domain/usage.js';
import { METRIC } from '../../shared/observability/metric-names.js';
import type { ModelAnswer, ModelRequest } from '../../shared/ports/model.js';
import { reserveBudget } from '../../shared/usage/reserve-budget.js';
import type { WorkerDependencies } from './dependencies.js';

/** Usage and exact cost of every call a job made. */
export class JobMeter {
  usage: TokenUsage = ZERO_USAGE;
  costNanoUsd = 0;

  add(usage: TokenUsage, costNanoUsd: number): void {
    this.usage = addUsage(this.usage, usage);
    this.costNanoUsd += costNanoUsd;
  }
}

/** How long a job's reservation may stay unsettled before it is reclaimed. */
const RESERVATION_LEASE_MS = 15 * 60_000;

/**
 * One model call, budgeted exactly like a chat turn: the worst case is reserved
 * first, the actual cost settled after.
 * @throws BudgetExceededError before the call when it does not fit
 */
export async function meteredComplete(
  deps: WorkerDependencies,
  userId: string,
  request: ModelRequest,
  meter: JobMeter,
): Promise<ModelAnswer> {
  const now = (deps.clock ?? Date.now)();
  const texts = [
    ...request.system.map((block) => block.text),
    ...request.messages.flatMap((message) => message.blocks.map((block) => block.text)),
  ];
  const reservation = await reserveBudget(deps.ledger, deps.settings, {
    userId,
    model: request.model,
    promptMaxTokens: maxTokensOf(texts),
    maxOutputTokens: request.maxTokens,
    nowMs: now,
    expiresAtMs: now + RESERVATION_LEASE_MS,
  });
  let answer: ModelAnswer;
  try {
    answer = await deps.model.complete(request);
  } catch (error) {
    await deps.ledger.release(reservation);
    throw error;
  }
  const costNanoUsd = deps.settings.prices.costNanoUsd(answer.model, answer.usage);
  await deps.ledger.settle(reservation, { usage: answer.usage, costNanoUsd });
  meter.add(answer.usage, costNanoUsd);
  recordCallMetrics(deps, answer.usage, costNanoUsd);
  return answer;
}

/** Jobs spend from the same budget as chat; the daily-spend alarm sums both. */
function recordCallMetrics(deps: WorkerDependencies, usage: TokenUsage, costNanoUsd: number) {
  deps.metrics.addMetric(METRIC.inputTokens, MetricUnit.Count, usage.inputTokens);
  deps.metrics.addMetric(METRIC.outputTokens, MetricUnit.Count, usage.outputTokens);
  deps.metrics.addMetric(METRIC.cacheReadInputTokens, MetricUnit.Count, usage.cacheReadInputTokens);
  deps.metrics.addMetric(
    METRIC.cacheCreationInputTokens,
    MetricUnit.Count,
    usage.cacheCreationInputTokens,
  );
  deps.metrics.addMetric(METRIC.costUsd, MetricUnit.Count, nanoToUsd(costNanoUsd));
}
