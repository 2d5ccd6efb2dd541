import { useRef } from 'react';
import type { Api } from './api.js';
import { type Message, textOf, toMessages } from './messages.js';

/** A question sent, and how many messages (all stored) the conversation showed before it. */
interface AskedQuestion {
  text: string;
  shownBefore: number;
}

/**
 * After a request failed, the conversation is shown as the server stored it, and the
 * question sent goes back into the composer if it did not get stored.
 */
export function useStoredConversation(deps: {
  api: Api;
  chatId: string;
  setMessages: (messages: Message[]) => void;
  /** Puts a question not stored back into the composer. */
  giveBack: (question: string) => void;
}) {
  // The last question sent, until the conversation is read again after its request failed.
  const asked = useRef<AskedQuestion | undefined>(undefined);
  // Counts the requests sent, so that a read of the conversation a newer one overtook is dropped.
  const requests = useRef(0);

  /** Before each request: the question it asks, if it asks one (a Regenerate does not). */
  const sending = (question?: AskedQuestion) => {
    requests.current += 1;
    asked.current = question;
  };

  /** False when a newer request made the read moot; throws when the read fails. */
  const showStored = async (): Promise<boolean> => {
    const request = requests.current;
    const stored = toMessages(await deps.api.messages(deps.chatId));
    if (requests.current !== request) return false;
    deps.setMessages(stored);
    const question = asked.current;
    asked.current = undefined;
    if (question && !storedSince(stored, question)) deps.giveBack(question.text);
    return true;
  };

  /**
   * After an error response. No answer began, yet the question may be stored: a model that
   * failed to start leaves it with an empty, failed answer. Should the store not answer,
   * the question is taken for one refused before it was stored, as most are.
   */
  const takeBackRefused = async () => {
    const request = requests.current;
    const question = asked.current;
    try {
      await showStored();
    } catch {
      if (!question || requests.current !== request) return;
      asked.current = undefined;
      deps.giveBack(question.text);
    }
  };

  return { sending, showStored, takeBackRefused };
}

/** Whether `stored` holds the question, after the messages shown when it was sent. */
function storedSince(stored: Message[], question: AskedQuestion): boolean {
  return stored
    .slice(question.shownBefore)
    .some((message) => message.role === 'user' && textOf(message) === question.text);
}
