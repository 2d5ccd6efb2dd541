/**
 * `target`, but for its method `name`, which fails as DynamoDB throttling does (after the SDK's
 * retries) while `failing.on`; after `delayMs` when set, as a throttled write fails late.
 */
export function withThrottledMethod<T extends object>(
  target: T,
  name: keyof T & string,
  failing: { on: boolean },
  { delayMs = 0 } = {},
): T {
  return new Proxy(target, {
    get(object, key, receiver) {
      const member = Reflect.get(object, key, receiver);
      if (typeof member !== 'function') return member;
      if (key !== name) return member.bind(object);
      return async (...args: unknown[]) => {
        if (failing.on) {
          if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
          throw Object.assign(new Error('throttled'), { name: 'ThrottlingException' });
        }
        return member.apply(object, args);
      };
    },
  });
}
