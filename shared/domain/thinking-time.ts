import type { Clock } from './clock.js';

/**
 * How long Claude thought unseen over one stream: from a thinking event to the next event
 * of another kind, added up. A cut answer is billed what it can have generated meanwhile.
 */
export class ThinkingTime {
  private sinceMs: number | undefined;
  private doneMs = 0;

  constructor(private readonly clock: Clock) {}

  /** Notes a stream event: thinking begins (or goes on), anything else ends it. */
  observe(event: { type: string }): void {
    if (event.type === 'thinking') {
      this.sinceMs ??= this.clock();
    } else if (this.sinceMs !== undefined) {
      this.doneMs += this.clock() - this.sinceMs;
      this.sinceMs = undefined;
    }
  }

  /** Milliseconds thought so far, a thought under way included. */
  get ms(): number {
    return this.doneMs + (this.sinceMs === undefined ? 0 : this.clock() - this.sinceMs);
  }
}
