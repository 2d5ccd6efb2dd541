/** Per-user request and token rates, per minute. */
export interface RateLimiter {
  /**
   * Counts one request of `tokens` (estimated) in the current minute.
   * @throws RateLimitedError with the seconds until the window reopens
   */
  admit(request: { userId: string; tokens: number; nowMs: number }): Promise<RateWindow>;
  /** Corrects the window's token count once the actual usage is known. */
  adjust(window: RateWindow, tokenDelta: number): Promise<void>;
}

export interface RateWindow {
  userId: string;
  windowStartMs: number;
}
