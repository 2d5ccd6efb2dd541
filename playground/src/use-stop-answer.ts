import { useCallback, useEffect, useState } from 'react';
import { type Api, ApiError } from './api.js';

/**
 * Stop, for the answer `streamingId` names once it has started. Pressed while the question
 * is still on its way, the stop waits for the answer's start: until then the server has no
 * turn to stop (409, or 404 in a new chat), and giving up on the request would not stop it
 * (on AWS a client's disconnect never reaches the function). Named, so that a Stop pressed
 * as an answer ends cannot stop the next one.
 *
 * @param streamingId the server's id of the answer being written, once its start arrived
 * @param busy whether a question or an answer is under way; a Stop left waiting ends with it
 */
export function useStopAnswer(
  api: Api,
  chatId: string,
  streamingId: string | undefined,
  busy: boolean,
) {
  const [wanted, setWanted] = useState(false);
  const [stopError, setStopError] = useState<string>();

  useEffect(() => {
    if (!busy) setWanted(false);
  }, [busy]);

  useEffect(() => {
    if (!wanted || !streamingId) return;
    setWanted(false);
    api.stop(chatId, streamingId).catch((failure: Error) => {
      // 409: it ended before the stop arrived; there is nothing left to stop.
      if (failure instanceof ApiError && failure.status === 409) return;
      setStopError(failure.message);
    });
  }, [wanted, streamingId, api, chatId]);

  const stop = useCallback(() => {
    setStopError(undefined);
    setWanted(true);
  }, []);
  return { stop, stopError };
}
