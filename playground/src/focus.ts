/** Whether the keyboard's focus is nowhere: the element that had it went away (or none had it). */
export function focusLost(): boolean {
  return document.activeElement === null || document.activeElement === document.body;
}

/**
 * Whether the keyboard is still where it was when an action began (`from`), or nowhere: only
 * then may the action's end move it, never from where the person has put it meanwhile (the
 * next question they are typing, say).
 */
export function focusUnmoved(from: Element | null): boolean {
  return document.activeElement === from || focusLost();
}
