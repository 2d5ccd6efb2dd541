import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * cls-hooked's `context` module, as far as the X-Ray SDK uses it (its trace context), on
 * AsyncLocalStorage. The bundles use it in cls-hooked's place (infra/bundling.ts).
 *
 * cls-hooked follows every asynchronous resource with async hooks, destroy tracking
 * included: the chat function's CPU per turn doubled with tracing on under concurrency
 * (`npm run bench`). Node 24's AsyncLocalStorage propagates with the async context frame,
 * nothing done per promise. test/contracts/trace-context.contract.ts runs the same cases
 * against both modules.
 */
export type Context = Record<string, unknown>;

export class Namespace {
  readonly name: string;
  readonly #storage = new AsyncLocalStorage<Context>();
  /**
   * A context entered outside any `run`: cls-hooked leaves it active wherever no other
   * context is, callbacks of earlier resources included. The X-Ray SDK enters Lambda's
   * facade segment's context so, once, as it loads.
   */
  #entered: Context | null = null;

  constructor(name: string) {
    this.name = name;
  }

  get active(): Context | null {
    return this.#storage.getStore() ?? this.#entered;
  }

  get(key: string): unknown {
    return this.active?.[key];
  }

  set<T>(key: string, value: T): T {
    const context = this.active;
    if (!context)
      throw new Error('No context available. ns.run() or ns.bind() must be called first.');
    context[key] = value;
    return value;
  }

  /** A context inheriting the active one's values. */
  createContext(): Context {
    return Object.create(this.active ?? Object.prototype);
  }

  run(fn: (context: Context) => void): Context {
    const context = this.createContext();
    this.#storage.run(context, fn, context);
    return context;
  }

  runAndReturn<T>(fn: (context: Context) => T): T {
    const context = this.createContext();
    return this.#storage.run(context, fn, context);
  }

  bind<F extends (...args: never[]) => unknown>(fn: F, context?: Context): F {
    const bound = context ?? this.active ?? this.createContext();
    const storage = this.#storage;
    return function clsBind(this: unknown, ...args: Parameters<F>) {
      return storage.run(bound, () => fn.apply(this, args));
    } as F;
  }

  /** Makes `context` the active one here, in what starts from here and, outside any run, everywhere. */
  enter(context: Context): void {
    if (!this.#storage.getStore()) this.#entered = context;
    this.#storage.enterWith(context);
  }
}

const namespaces = new Map<string, Namespace>();

export function getNamespace(name: string): Namespace | undefined {
  return namespaces.get(name);
}

export function createNamespace(name: string): Namespace {
  const namespace = new Namespace(name);
  namespaces.set(name, namespace);
  return namespace;
}

export function destroyNamespace(name: string): void {
  namespaces.delete(name);
}
