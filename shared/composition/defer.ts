/**
 * Stand-ins for the members of an object that is still loading, e.g. adapters built by a
 * module imported in the background so that a function's entry module loads fast.
 *
 * Once `loading` has settled (`ready` resolves after that), each stand-in forwards every
 * property read to the real member: it behaves as the member itself, sync methods and
 * `Object.keys` included. Before that, reading a property gives a function that awaits
 * the member and calls that method: right for async methods only, so code that uses
 * anything else awaits `ready` first. A failed load rejects `ready` and every early call.
 */
export function deferMembers<T extends object, K extends keyof T & string>(
  loading: Promise<T>,
  keys: readonly K[],
): { members: Pick<T, K>; ready: Promise<void> } {
  let loaded: T | undefined;
  const ready = loading.then((value) => {
    loaded = value;
  });
  // A load that fails is reported where it is awaited (`ready`, an early call), not here.
  ready.catch(() => {});
  const members = Object.fromEntries(
    keys.map((key) => [
      key,
      standIn(
        () => loaded?.[key] as object | undefined,
        loading.then((value) => value[key] as object),
      ),
    ]),
  );
  return { members: members as Pick<T, K>, ready };
}

function standIn(current: () => object | undefined, pending: Promise<object>): object {
  return new Proxy(
    {},
    {
      get(_, key) {
        const target = current();
        if (target) {
          const value: unknown = Reflect.get(target, key);
          return typeof value === 'function' ? value.bind(target) : value;
        }
        // Not a thenable, and no symbol-keyed protocol, until it has loaded.
        if (key === 'then' || typeof key === 'symbol') return undefined;
        return async (...args: unknown[]) => {
          const target = await pending;
          const method: unknown = Reflect.get(target, key);
          if (typeof method !== 'function') throw new TypeError(`${key} is not a method`);
          return method.apply(target, args);
        };
      },
      has: (_, key) => {
        const target = current();
        return target !== undefined && Reflect.has(target, key);
      },
      ownKeys: () => {
        const target = current();
        return target ? Reflect.ownKeys(target) : [];
      },
      getOwnPropertyDescriptor: (_, key) => {
        const target = current();
        const descriptor = target && Reflect.getOwnPropertyDescriptor(target, key);
        // The proxy's own target is an empty, extensible object: its properties must be configurable.
        return descriptor && { ...descriptor, configurable: true };
      },
    },
  );
}

/**
 * Runs `load` (e.g. a dynamic `import()`) after the current macrotask: a module that calls
 * it while being evaluated finishes loading first, and its importer gets control back.
 */
export function inBackground<T>(load: () => Promise<T>): Promise<T> {
  return new Promise<void>((resolve) => setImmediate(resolve)).then(load);
}
