/**
 * Metric names, units and dimensions: the contract between the functions that emit
 * (Powertools Metrics, EMF) and the alarms and dashboard that read.
 */

/**
 * The CloudWatch namespace a stack's functions publish their metrics under, and its alarms and
 * dashboard read: the stack's name, so that two stacks in one account and region (staging beside
 * production, or an old stack left running after a rename) never count each other's metrics.
 * The default stack's is `ClaudeServerless`, the namespace every deployment had before: its
 * metric history, alarms and dashboard carry on. A stack name (a letter, then letters, digits and
 * hyphens, 128 at most) is a valid namespace: CloudWatch takes 1 to 255 ASCII characters, not
 * starting with `:` or `AWS/`.
 */
export const metricsNamespaceOf = (stackName: string): string => stackName;

/** Powertools adds a `service` dimension to every metric; these are its values. */
export const SERVICE = {
  chat: 'chat',
  worker: 'worker',
  maintenance: 'maintenance',
} as const;

export const METRIC = {
  /** Model calls admitted: chat turns and /v1/messages calls that reached the model, started or not. Count. */
  requests: 'Requests',
  /**
   * Calls that failed: the model could not start answering (after the SDK's retries and the
   * fallback model; an error response to a /v1/messages caller's own request, a 4xx but
   * 429, is the caller's and not counted), or the answer broke off (stopReason `error`, a
   * /v1/messages stream that ended in an error or carried an event that is not JSON). Count.
   */
  turnsFailed: 'TurnsFailed',
  /** Answers replayed from the response cache (free). Count. */
  responseCacheHits: 'ResponseCacheHits',
  /** Answers the response cache did not have (the cache on, not bypassed). Count. */
  responseCacheMisses: 'ResponseCacheMisses',
  /** Milliseconds from request arrival to the first text delta sent (a streamed /v1/messages call: its first content event, after `message_start`). */
  timeToFirstToken: 'TimeToFirstToken',
  /** Milliseconds from request arrival to the end of the stream. */
  turnLatency: 'TurnLatency',
  inputTokens: 'InputTokens',
  outputTokens: 'OutputTokens',
  cacheReadInputTokens: 'CacheReadInputTokens',
  cacheCreationInputTokens: 'CacheCreationInputTokens',
  /**
   * US dollars of model usage, published by what settles a call (the chat function, the
   * worker, and the sweep for the dead turns it ends) as much as the ledger counts for that
   * settle: summed, the deployment's spend. Count (fractional).
   */
  costUsd: 'CostUsd',
  budgetRejections: 'BudgetRejections',
  rateLimitRejections: 'RateLimitRejections',
  /** Model errors of chat calls that failed and of job attempts (service `worker`); emitted with the `ErrorType` dimension as well. */
  modelErrors: 'ModelErrors',
  /** Month-to-date spend as a percentage of the global monthly budget. */
  globalBudgetUsedPercent: 'GlobalBudgetUsedPercent',
  /**
   * US dollars a call cost beyond the worst case reserved for it: the budget may then be
   * exceeded by that much (the caller is refused until back under). Alarmed on any.
   */
  budgetOverrunUsd: 'BudgetOverrunUsd',
  /** Turns whose function died, ended as `interrupted` by the maintenance sweep, or by the chat function on the conversation's next turn or stop. Count. */
  turnsRecovered: 'TurnsRecovered',
  /** Expired holds of callers that never settled, reclaimed by the sweep. Count. */
  holdsReclaimed: 'HoldsReclaimed',
  /**
   * `/v1/messages` calls and jobs' calls whose function died before they settled, billed all
   * they held by the sweep (Claude bills what it generated, which nobody saw). Count.
   */
  callsAbandoned: 'CallsAbandoned',
  /**
   * Turns holding a reservation that a sweep had no time to check (half its run): a backlog,
   * left to the next runs; above 0 for long, the sweep is behind. Count.
   */
  turnsDeferred: 'SweepTurnsDeferred',
  /**
   * Failures of ours the model-call error rate does not see, each logged at ERROR: a request
   * answered 5xx for other than the model (a table, queue or secret that failed; a bug), an
   * answer not stored, a call's usage not settled or not recorded, a job message the worker
   * failed on outside the job. Lambda's Errors count none of them (the invocation returned). Count.
   */
  internalErrors: 'InternalErrors',
  /** Promise rejections nothing observed: a bug of ours, logged and alarmed. Count. */
  unhandledErrors: 'UnhandledErrors',
  jobsSucceeded: 'JobsSucceeded',
  jobsFailed: 'JobsFailed',
  /** Milliseconds a worker spent on one job. */
  jobDuration: 'JobDuration',
  /** Events (job ends, progress, budget thresholds) the topic did not take. Count. */
  eventsNotPublished: 'EventsNotPublished',
} as const;

export type MetricName = (typeof METRIC)[keyof typeof METRIC];

/** Extra dimension set of {@link METRIC.modelErrors}. */
export const ERROR_TYPE_DIMENSION = 'ErrorType';
