import type { ConversationStore } from '../../../shared/ports/conversation-store.js';

/**
 * The store with its reads of a streaming answer (`partialAnswer`, `answerPieces`) failing while
 * `failing.reads` is above 0, one each, as a throttled table fails them.
 */
export function withFailingAnswerReads(
  store: ConversationStore,
  failing: { reads: number },
): ConversationStore {
  return new Proxy(store, {
    get(target, key) {
      if ((key === 'partialAnswer' || key === 'answerPieces') && failing.reads > 0) {
        failing.reads--;
        return () => Promise.reject(new Error('throttled'));
      }
      const value: unknown = Reflect.get(target, key);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
