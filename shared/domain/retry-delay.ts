/**
 * The Anthropic SDK's back-off before its retry number `retry` (0 for the first): 0.5 s
 * doubling, at most 8 s, less up to a quarter of jitter. For what we retry that the SDK does
 * not: an error the API sends as a stream's first event, after its 200.
 */
export function retryDelayMs(retry: number): number {
  return Math.min(500 * 2 ** retry, 8_000) * (1 - Math.random() * 0.25);
}
