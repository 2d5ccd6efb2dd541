import type { InfraConfig } from './config.js';
import type { SettingName } from './constructs/claude-function.js';

/**
 * The settings both functions read, from the stack's configuration. Resource names,
 * queue URLs and secret ARNs are added by the constructs that grant access to them.
 */
export function functionSettings(config: InfraConfig): Partial<Record<SettingName, string>> {
  const settings: Partial<Record<SettingName, string>> = {
    AUTH_MODE: config.authMode,
    DEFAULT_MODEL: config.defaultModel,
    MAX_OUTPUT_TOKENS: String(config.maxOutputTokens),
    MAX_MESSAGE_CHARS: String(config.maxMessageChars),
    CONTEXT_WINDOW_TOKENS: String(config.contextWindowTokens),
    COMPACTION_THRESHOLD_TOKENS: String(config.compactionThresholdTokens),
    USER_MONTHLY_BUDGET_USD: String(config.userMonthlyBudgetUsd),
    GLOBAL_MONTHLY_BUDGET_USD: String(config.globalMonthlyBudgetUsd),
    USER_REQUESTS_PER_MINUTE: String(config.userRequestsPerMinute),
    USER_TOKENS_PER_MINUTE: String(config.userTokensPerMinute),
    MODEL_MAX_RETRIES: String(config.modelMaxRetries),
    MODEL_TIMEOUT_MS: String(config.modelTimeoutMs),
    STREAM_IDLE_TIMEOUT_MS: String(config.streamIdleTimeoutMs),
    DEADLINE_MARGIN_MS: String(config.deadlineMarginMs),
    DOCUMENT_CHUNK_TOKENS: String(config.documentChunkTokens),
    SUMMARY_MAX_TOKENS: String(config.summaryMaxTokens),
    SUMMARY_CONCURRENCY: String(config.summaryConcurrency),
    JOB_RETRY_BASE_SECONDS: String(config.jobRetryBaseSeconds),
    MAX_DOCUMENT_BYTES: String(config.maxDocumentBytes),
  };
  if (config.allowedModels.length > 0) settings.ALLOWED_MODELS = config.allowedModels.join(',');
  if (config.fallbackModel) settings.FALLBACK_MODEL = config.fallbackModel;
  if (Object.keys(config.modelPrices).length > 0) {
    settings.MODEL_PRICES = JSON.stringify(config.modelPrices);
  }
  if (config.jwtIssuer) settings.JWT_ISSUER = config.jwtIssuer;
  if (config.jwtAudience) settings.JWT_AUDIENCE = config.jwtAudience;
  if (config.jwksUrl) settings.JWKS_URL = config.jwksUrl;
  return settings;
}
