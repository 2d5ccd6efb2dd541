/** Token usage of one model call, as Claude reports it (message_start + message_delta). */
export interface TokenUsage {
  inputTokens: number;
  outputTokens: number;
  cacheReadInputTokens: number;
  /** All cache writes; `cacheCreation1hInputTokens` of them at the 1-hour price. */
  cacheCreationInputTokens: number;
  cacheCreation1hInputTokens?: number;
  /** Server-side web searches the answer made, priced per search. */
  webSearchRequests?: number;
  /** Where inference ran, as the API reports it: any geography but `global` costs more. */
  inferenceGeo?: string;
}

/**
 * The four token counts the APIs report (Anthropic's `usage` fields, in our case), and whether
 * they are our estimate: an answer cut before Claude counted it (stopped, failed, broken off).
 */
export type ReportedUsage = Pick<
  TokenUsage,
  'inputTokens' | 'outputTokens' | 'cacheReadInputTokens' | 'cacheCreationInputTokens'
> & { estimated?: true };

export function reportedUsage(usage: TokenUsage, estimated = false): ReportedUsage {
  return {
    inputTokens: usage.inputTokens,
    outputTokens: usage.outputTokens,
    cacheReadInputTokens: usage.cacheReadInputTokens,
    cacheCreationInputTokens: usage.cacheCreationInputTokens,
    ...(estimated && { estimated: true }),
  };
}

export const ZERO_USAGE: TokenUsage = {
  inputTokens: 0,
  outputTokens: 0,
  cacheReadInputTokens: 0,
  cacheCreationInputTokens: 0,
};

/** What `usage.inference_geo` says when it does not say where (a model before 4.6 always). */
export const GEO_NOT_AVAILABLE = 'not_available';

/** Inference held to one geography (`inference_geo` `us`), priced above the list price. */
export const isRegionalInference = (geo: string | undefined): boolean =>
  geo !== undefined && geo !== 'global' && geo !== GEO_NOT_AVAILABLE;

export function addUsage(a: TokenUsage, b: TokenUsage): TokenUsage {
  // Summed calls are priced as one: a regional one makes the sum regional.
  const inferenceGeo =
    [a.inferenceGeo, b.inferenceGeo].find(isRegionalInference) ?? a.inferenceGeo ?? b.inferenceGeo;
  return {
    inputTokens: a.inputTokens + b.inputTokens,
    outputTokens: a.outputTokens + b.outputTokens,
    cacheReadInputTokens: a.cacheReadInputTokens + b.cacheReadInputTokens,
    cacheCreationInputTokens: a.cacheCreationInputTokens + b.cacheCreationInputTokens,
    cacheCreation1hInputTokens:
      (a.cacheCreation1hInputTokens ?? 0) + (b.cacheCreation1hInputTokens ?? 0),
    webSearchRequests: (a.webSearchRequests ?? 0) + (b.webSearchRequests ?? 0),
    ...(inferenceGeo !== undefined && { inferenceGeo }),
  };
}
