import { useEffect } from 'react';

/**
 * Escape is Stop wherever the keyboard is while a question or an answer is under way: the
 * Stop button declares it (`aria-keyshortcuts`), so it works on that button too, not only
 * in the composer. An Escape that ends an IME composition (Japanese, Chinese…) is the
 * composition's.
 */
export function useStopKey(busy: boolean, stop: () => void) {
  useEffect(() => {
    if (!busy) return;
    const onKeyDown = (event: KeyboardEvent) => {
      if (event.key !== 'Escape' || event.defaultPrevented || composing(event)) return;
      event.preventDefault();
      stop();
    };
    document.addEventListener('keydown', onKeyDown);
    return () => document.removeEventListener('keydown', onKeyDown);
  }, [busy, stop]);
}

/**
 * Whether the key belongs to an IME composition, whose Enter confirms the characters chosen
 * and whose Escape cancels them. Safari reports such a key with keyCode 229 alone.
 */
export function composing(event: KeyboardEvent): boolean {
  return event.isComposing || event.keyCode === 229;
}
