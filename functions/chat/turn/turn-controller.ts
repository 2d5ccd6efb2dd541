/**
 * Why a turn ended before the model finished: a stop request, the deadline, a silent
 * stream, a model slow to start, or the conversation taken by another turn (this one's
 * lease ran out: its heartbeats failed).
 */
export type InterruptReason = 'stopped' | 'timeout' | 'idle' | 'slow-start' | 'displaced';

/**
 * One AbortController for the upstream call, with the watchdogs that may fire it:
 * the deadline (the function's time budget), idleness (a stalled stream) and an
 * explicit stop (polled from the store, since a client disconnect never reaches
 * the function on AWS).
 */
export class TurnController {
  private readonly abortController = new AbortController();
  private readonly timers: NodeJS.Timeout[] = [];
  /** Polls and heartbeats under way: the turn ends once they have. */
  private readonly inFlight = new Set<Promise<unknown>>();
  private idleTimer: NodeJS.Timeout | undefined;
  private startTimer: NodeJS.Timeout | undefined;
  private reason: InterruptReason | undefined;

  constructor(deadlineMs: number) {
    this.timers.push(setTimeout(() => this.interrupt('timeout'), Math.max(0, deadlineMs)));
  }

  get signal(): AbortSignal {
    return this.abortController.signal;
  }

  get interruptedBy(): InterruptReason | undefined {
    return this.reason;
  }

  interrupt(reason: InterruptReason): void {
    if (this.reason) return;
    this.reason = reason;
    this.abortController.abort(new Error(`turn interrupted: ${reason}`));
  }

  /**
   * The answer must start within `ms` (retries included), or the turn is interrupted. The
   * idle watchdog rests meanwhile: an answer sent again is awaited anew.
   */
  expectStartWithin(ms: number): void {
    clearTimeout(this.idleTimer);
    clearTimeout(this.startTimer);
    this.startTimer = setTimeout(() => this.interrupt('slow-start'), Math.max(0, ms));
  }

  /** The answer started: the start watchdog is done. */
  started(): void {
    clearTimeout(this.startTimer);
  }

  /**
   * The idle watchdog rests until the next `touch`: Claude thinks unseen, and the API's pings
   * meanwhile never reach the SDK's reader. The deadline bounds it.
   */
  rest(): void {
    clearTimeout(this.idleTimer);
  }

  /** (Re)arms the idle watchdog; call on every upstream event. */
  touch(idleTimeoutMs: number): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => this.interrupt('idle'), idleTimeoutMs);
  }

  /**
   * Polls `isStopRequested` until the turn ends; a failed poll is retried next tick.
   * @param atOnce whether the first poll is now rather than an interval from now
   */
  watchForStop(
    isStopRequested: () => Promise<boolean>,
    intervalMs: number,
    { atOnce = false } = {},
  ): void {
    let polling = false;
    const poll = async () => {
      if (polling || this.reason) return;
      polling = true;
      try {
        if (await this.track(isStopRequested())) this.interrupt('stopped');
      } catch {
        // Transient store errors must not end the turn; the next poll retries.
      } finally {
        polling = false;
      }
    };
    this.timers.push(setInterval(poll, intervalMs));
    if (atOnce) void poll();
  }

  every(intervalMs: number, tick: () => Promise<unknown>): void {
    this.timers.push(setInterval(() => void this.track(tick()), intervalMs));
  }

  /**
   * Stops the watchdogs; settles once the polls and heartbeats under way have. A call left
   * running would outlive the response: on Lambda it would be frozen with the environment,
   * and its trace subsegment would keep the request's from being sent.
   */
  async dispose(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    clearTimeout(this.idleTimer);
    clearTimeout(this.startTimer);
    await Promise.allSettled(this.inFlight);
  }

  private track<T>(call: Promise<T>): Promise<T> {
    this.inFlight.add(call);
    const done = () => this.inFlight.delete(call);
    call.then(done, done);
    return call;
  }
}
