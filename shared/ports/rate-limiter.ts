export interface RateLimits {
  requestsPerMinute: number;
  tokensPerMinute: number;
}

/** Whose requests a window counts: a user's (principal's) or one API key's. */
export type RateSubject = `user:${string}` | `key:${string}`;

/** Request and token rates per subject, in fixed one-minute windows. */
export interface RateLimiter {
  /**
   * Counts one request of `tokens` (estimated) in the subject's current minute.
   * @throws RateLimitedError with the seconds until the window reopens; nothing is counted then
   */
  admit(request: {
    subject: RateSubject;
    limits: RateLimits;
    tokens: number;
    nowMs: number;
  }): Promise<RateWindow>;
  /** Corrects the window's token count once the actual usage is known. */
  adjust(window: RateWindow, tokenDelta: number): Promise<void>;
  /**
   * Takes a request back out of its window, with the tokens it was counted for: it was
   * refused (a budget, another window) or never made, so it uses none of the rate.
   */
  withdraw(window: RateWindow, tokens: number): Promise<void>;
}

/** The window a request was counted in, and its counts with that request. */
export interface RateWindow {
  subject: RateSubject;
  windowStartMs: number;
  limits: RateLimits;
  requests: number;
  tokens: number;
}
