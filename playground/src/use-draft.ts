import { useEffect, useState } from 'react';

const DRAFT_KEY_PREFIX = 'playground.draft.';

/**
 * What is typed in chat `chatId`'s composer, kept for this tab: opening another chat, or a
 * reload, does not lose it.
 */
export function useDraft(chatId: string) {
  const key = `${DRAFT_KEY_PREFIX}${chatId}`;
  const [draft, setDraft] = useState(() => sessionStorage.getItem(key) ?? '');
  useEffect(() => {
    if (draft === '') sessionStorage.removeItem(key);
    else sessionStorage.setItem(key, draft);
  }, [key, draft]);
  return [draft, setDraft] as const;
}

/** When the token is forgotten: the next person at this tab does not see what was typed. */
export function forgetDrafts() {
  for (const key of Object.keys(sessionStorage)) {
    if (key.startsWith(DRAFT_KEY_PREFIX)) sessionStorage.removeItem(key);
  }
}
