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

/** A question sent, and how many messages (all stored) the conversation showed before it. */
export interface SentQuestion {
  text: string;
  shownBefore: number;
}

/**
 * The question sent from chat `chatId` whose answer has not started, kept for this tab
 * with its draft: a chat closed meanwhile (another one opened, a reload) gives the request
 * up and never learns whether the question was stored, so it is checked when it opens again.
 */
export function sentQuestion(chatId: string) {
  const key = `${DRAFT_KEY_PREFIX}${chatId}.sent`;
  return {
    read: (): SentQuestion | undefined => {
      const saved = sessionStorage.getItem(key);
      return saved === null ? undefined : (JSON.parse(saved) as SentQuestion);
    },
    save: (question: SentQuestion | undefined) => {
      if (question === undefined) sessionStorage.removeItem(key);
      else sessionStorage.setItem(key, JSON.stringify(question));
    },
  };
}

/** The chat New chat opened last, until its first answer starts. */
const UNSTARTED_CHAT_KEY = `${DRAFT_KEY_PREFIX}unstarted-chat`;

/**
 * The chat New chat opens: the one it opened last while nothing has been answered in it,
 * which is listed nowhere else (a question being typed there is found again), or a new one.
 */
export function unstartedChat(newChatId: () => string): string {
  const kept = sessionStorage.getItem(UNSTARTED_CHAT_KEY);
  if (kept !== null) return kept;
  const id = newChatId();
  sessionStorage.setItem(UNSTARTED_CHAT_KEY, id);
  return id;
}

/** Chat `chatId`'s first answer started: it is listed now, and New chat opens another. */
export function chatStarted(chatId: string) {
  if (sessionStorage.getItem(UNSTARTED_CHAT_KEY) === chatId) {
    sessionStorage.removeItem(UNSTARTED_CHAT_KEY);
  }
}

/** When the token is forgotten: the next person at this tab does not see what was typed. */
export function forgetDrafts() {
  for (const key of Object.keys(sessionStorage)) {
    if (key.startsWith(DRAFT_KEY_PREFIX)) sessionStorage.removeItem(key);
  }
}
