import { randomUUID } from 'node:crypto';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';

/** What the X-Ray SDK uses of cls-hooked's `context` module. */
export interface TraceContextModule {
  createNamespace(name: string): Namespace;
  getNamespace(name: string): Namespace | undefined;
}

interface Namespace {
  active: object | null;
  get(key: string): unknown;
  set<T>(key: string, value: T): T;
  createContext(): object;
  run(fn: (context: object) => void): object;
  runAndReturn<T>(fn: (context: object) => T): T;
  bind<F extends (...args: never[]) => unknown>(fn: F, context?: object): F;
  enter(context: object): void;
}

/**
 * cls-hooked's behaviour as the X-Ray SDK relies on it, for cls-hooked itself and for
 * the AsyncLocalStorage module the bundles use in its place. Each test has a namespace of
 * its own: an entered context stays active for the life of the process.
 */
export function traceContextContract(load: () => TraceContextModule) {
  const fresh = () => {
    const module = load();
    const name = `contract-${randomUUID()}`;
    return { module, ns: module.createNamespace(name), name };
  };

  describe('outside any context', () => {
    it('reads nothing and refuses to set', () => {
      const { ns } = fresh();
      expect(ns.active).toBeNull();
      expect(ns.get('segment')).toBeUndefined();
      expect(() => ns.set('segment', 1)).toThrow('No context available');
    });

    it('finds a namespace by name', () => {
      const { module, ns, name } = fresh();
      expect(module.getNamespace(name)).toBe(ns);
    });
  });

  describe('run', () => {
    it('holds what is set until it returns, through awaits and timers started inside', async () => {
      const { ns } = fresh();
      const seen: unknown[] = [];
      let later: Promise<void> = Promise.resolve();
      ns.run(() => {
        ns.set('segment', 'request');
        later = (async () => {
          await nextTurn();
          seen.push(ns.get('segment'));
          await new Promise((resolve) => setTimeout(resolve, 5));
          seen.push(ns.get('segment'));
        })();
      });
      expect(ns.get('segment')).toBeUndefined();
      await later;
      expect(seen).toEqual(['request', 'request']);
    });

    it('keeps concurrent runs apart', async () => {
      const { ns } = fresh();
      const turn = (name: string, delayMs: number) =>
        ns.runAndReturn(async () => {
          ns.set('segment', name);
          await new Promise((resolve) => setTimeout(resolve, delayMs));
          return ns.get('segment');
        });
      expect(await Promise.all([turn('a', 10), turn('b', 1), turn('c', 5)])).toEqual([
        'a',
        'b',
        'c',
      ]);
    });

    it('nests: the inner run sees the outer values, and what it sets stays inside', () => {
      const { ns } = fresh();
      ns.run(() => {
        ns.set('segment', 'outer');
        ns.run(() => {
          expect(ns.get('segment')).toBe('outer');
          ns.set('segment', 'inner');
          expect(ns.get('segment')).toBe('inner');
        });
        expect(ns.get('segment')).toBe('outer');
      });
    });

    it('hands its context to the function and returns it; runAndReturn returns the value', () => {
      const { ns } = fresh();
      let given: object | undefined;
      const returned = ns.run((context) => {
        given = context;
        ns.set('segment', 'x');
      });
      expect(returned).toBe(given);
      expect((returned as Record<string, unknown>).segment).toBe('x');
      expect(ns.runAndReturn(() => 42)).toBe(42);
    });

    it('passes an error thrown inside through, and leaves the context', () => {
      const { ns } = fresh();
      const failure = new Error('boom');
      expect(() =>
        ns.run(() => {
          ns.set('segment', 'failing');
          throw failure;
        }),
      ).toThrow(failure);
      expect(ns.get('segment')).toBeUndefined();
    });
  });

  describe('createContext', () => {
    it('inherits the active context', () => {
      const { ns } = fresh();
      ns.run(() => {
        ns.set('segment', 'parent');
        const child = ns.createContext() as Record<string, unknown>;
        expect(child.segment).toBe('parent');
      });
    });
  });

  describe('bind', () => {
    it('runs the function in the context active when it was bound, wherever it is called', async () => {
      const { ns } = fresh();
      let bound: () => unknown = () => undefined;
      ns.run(() => {
        ns.set('segment', 'bound');
        bound = ns.bind(() => ns.get('segment'));
      });
      expect(bound()).toBe('bound');
      const elsewhere = await ns.runAndReturn(async () => {
        ns.set('segment', 'other');
        await nextTurn();
        return [bound(), ns.get('segment')];
      });
      expect(elsewhere).toEqual(['bound', 'other']);
    });

    it('binds to a context given, passing arguments and this through', () => {
      const { ns } = fresh();
      const context = ns.createContext() as Record<string, unknown>;
      context.segment = 'given';
      const target = { base: 1 };
      const bound = ns.bind(function (this: typeof target, n: number) {
        return [this.base + n, ns.get('segment')];
      }, context);
      expect(bound.call(target, 2)).toEqual([3, 'given']);
    });
  });

  describe('enter', () => {
    it('outside any run, stays active for callbacks started before and after it', async () => {
      const { ns } = fresh();
      const before = new Promise((resolve) => setTimeout(() => resolve(ns.get('segment')), 5));
      const context = ns.createContext();
      ns.enter(context);
      ns.set('segment', 'facade');
      const after = new Promise((resolve) => setTimeout(() => resolve(ns.get('segment')), 1));
      expect(await Promise.all([before, after])).toEqual(['facade', 'facade']);
      // A run inside it inherits it; what the run sets stays in the run.
      ns.run(() => {
        expect(ns.get('segment')).toBe('facade');
        ns.set('segment', 'request');
      });
      expect(ns.get('segment')).toBe('facade');
    });
  });
}
