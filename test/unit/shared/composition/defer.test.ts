import { describe, expect, it } from 'vitest';
import { deferMembers, inBackground } from '../../../../shared/composition/defer.js';

class Counter {
  #count = 0;
  increment(by: number): number {
    this.#count += by;
    return this.#count;
  }
  async read(): Promise<number> {
    return this.#count;
  }
}

function loading<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('deferMembers', () => {
  it('lets an async method be called before the member has loaded, and runs it once loaded', async () => {
    const load = loading<{ counter: Counter }>();
    const { members } = deferMembers(load.promise, ['counter']);

    const read = (members.counter.read as () => Promise<number>)();
    const counter = new Counter();
    counter.increment(2);
    load.resolve({ counter });

    await expect(read).resolves.toBe(2);
  });

  it('behaves as the member itself once ready: sync methods, private fields, keys', async () => {
    const load = loading<{ counter: Counter; checks: Record<string, () => Promise<void>> }>();
    const { members, ready } = deferMembers(load.promise, ['counter', 'checks']);
    load.resolve({
      counter: new Counter(),
      checks: { table: async () => {}, queue: async () => {} },
    });
    await ready;

    expect(members.counter.increment(3)).toBe(3);
    expect(members.counter.increment(1)).toBe(4);
    expect(Object.keys(members.checks)).toEqual(['table', 'queue']);
    expect('table' in members.checks).toBe(true);
  });

  it('is not a thenable before it has loaded, so awaiting it does not wait for the load', async () => {
    const { members } = deferMembers(loading<{ port: object }>().promise, ['port']);

    await expect(Promise.resolve(members.port)).resolves.toBe(members.port);
  });

  it('rejects ready and every early call when the load fails', async () => {
    const load = loading<{ counter: Counter }>();
    const { members, ready } = deferMembers(load.promise, ['counter']);
    const read = (members.counter.read as () => Promise<number>)();
    load.reject(new Error('the chunk did not load'));

    await expect(ready).rejects.toThrow('the chunk did not load');
    await expect(read).rejects.toThrow('the chunk did not load');
  });
});

describe('inBackground', () => {
  it('starts loading only after the current macrotask', async () => {
    const events: string[] = [];
    const done = inBackground(async () => events.push('loaded'));
    await Promise.resolve();
    events.push('evaluated');

    await done;
    expect(events).toEqual(['evaluated', 'loaded']);
  });
});
