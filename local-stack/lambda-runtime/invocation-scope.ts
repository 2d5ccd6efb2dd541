import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * Whose code is running: one process hosts every local function, where AWS gives each its
 * own execution environment and role. `via` is set for what Lambda itself does with the
 * function's role (an event-source mapping polls and deletes under it).
 */
export interface InvocationScope {
  functionName: string;
  via?: 'event-source-mapping';
}

const current = new AsyncLocalStorage<InvocationScope>();

/** Runs `work` (and everything it starts) as `scope`'s. */
export function runInScope<T>(scope: InvocationScope, work: () => T): T {
  return current.run(scope, work);
}

/** The function the running code belongs to, or undefined outside any (tests, the local stack's setup). */
export function currentInvocationScope(): InvocationScope | undefined {
  return current.getStore();
}
