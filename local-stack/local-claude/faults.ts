import type { Directive, Fault } from './directives.js';

/** Decides whether a request's fault fires, counting `times` per key across requests. */
export class FaultLedger {
  private readonly counts = new Map<string, number>();

  /** The fault to inject into this request, if any; counts it against `times`. */
  select(directive: Directive, model: string): Fault | undefined {
    const { fault, times, key } = directive;
    if (!fault) return undefined;
    if (directive.model !== undefined && directive.model !== model) return undefined;
    if (times === undefined) return fault;
    const seen = this.counts.get(key) ?? 0;
    this.counts.set(key, seen + 1);
    return seen < times ? fault : undefined;
  }
}
