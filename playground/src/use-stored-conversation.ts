import { useRef } from 'react';
import type { Api } from './api.js';
import { type Message, textOf, toMessages } from './messages.js';
import { type SentQuestion, sentQuestion } from './use-draft.js';

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
  // The last question sent, until its answer starts or the conversation is read again after
  // its request failed. Kept with the drafts: the chat may be closed before either happens.
  const asked = sentQuestion(deps.chatId);
  // Counts the requests sent, so that a read of the conversation a newer one overtook is dropped.
  const requests = useRef(0);

  /** Before each request: the question it asks, if it asks one (a Regenerate does not). */
  const sending = (question?: SentQuestion) => {
    requests.current += 1;
    asked.save(question);
  };

  /** The answer began: the server stored the question. */
  const answerStarted = () => asked.save(undefined);

  /**
   * When the chat opens with `stored`: a question sent before it was last closed, with no
   * answer begun then, goes back into the composer unless the server stored it.
   */
  const giveBackUnstored = (stored: Message[]) => {
    const question = asked.read();
    asked.save(undefined);
    if (question && !storedSince(stored, question)) deps.giveBack(question.text);
  };

  /** The messages shown; undefined when a newer request made the read moot. Throws when the read fails. */
  const showStored = async (): Promise<Message[] | undefined> => {
    const request = requests.current;
    const stored = toMessages(await deps.api.messages(deps.chatId));
    if (requests.current !== request) return undefined;
    deps.setMessages(stored);
    const question = asked.read();
    asked.save(undefined);
    if (question && !storedSince(stored, question)) deps.giveBack(question.text);
    return stored;
  };

  /**
   * After an error response. No answer began, yet the question may be stored: a model that
   * failed to start leaves it with an empty, failed answer. Should the store not answer,
   * the question is taken for one refused before it was stored, as most are.
   */
  const takeBackRefused = async () => {
    const request = requests.current;
    const question = asked.read();
    try {
      await showStored();
    } catch {
      if (!question || requests.current !== request) return;
      asked.save(undefined);
      deps.giveBack(question.text);
    }
  };

  return { sending, answerStarted, giveBackUnstored, showStored, takeBackRefused };
}

/** Whether `stored` holds the question, after the messages shown when it was sent. */
function storedSince(stored: Message[], question: SentQuestion): boolean {
  return stored
    .slice(question.shownBefore)
    .some((message) => message.role === 'user' && textOf(message) === question.text);
}
