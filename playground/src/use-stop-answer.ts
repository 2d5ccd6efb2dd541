import { useCallback, useState } from 'react';
import { type Api, ApiError } from './api.js';

/**
 * Stop, at any moment of a question under way. Before its answer has started (the question
 * on its way, admitted, or waiting for Claude's first token) it names the question by its id
 * in the chat, and the server stops the answer before it starts (a stop landing before the
 * server recorded the turn is kept for it). Once started, it names the answer by its id.
 * Named either way, so that a Stop pressed as an answer ends cannot stop the next one.
 *
 * @param answerId the server's id of the answer being written, once its start arrived
 * @param questionId the id of the question under way, while one is
 */
export function useStopAnswer(
  api: Api,
  chatId: string,
  answerId: string | undefined,
  questionId: string | undefined,
) {
  const [stopError, setStopError] = useState<string>();

  const stop = useCallback(() => {
    setStopError(undefined);
    const stopping = answerId
      ? api.stop(chatId, answerId)
      : questionId
        ? api.stopQuestion(chatId, questionId)
        : undefined;
    stopping?.catch((failure: Error) => {
      // 409: it ended before the stop arrived; there is nothing left to stop.
      if (failure instanceof ApiError && failure.status === 409) return;
      setStopError(failure.message);
    });
  }, [api, chatId, answerId, questionId]);
  return { stop, stopError };
}
