import type { createApiOperations } from './api-operations.js';
import type { createCancelStopOperations } from './cancel-stop-operations.js';
import type { createChatOperations } from './chat-operations.js';
import type { Random } from './seeded-random.js';

/**
 * The soak's mix: one operation, its user and kind drawn from `rand` (a fifth plain turns,
 * then stops, resumes, faults, regenerates and edits, /v1/messages, useChat, jobs, running
 * jobs cancelled, useChat answers stopped by question…).
 */
export function createWorkload(
  users: readonly string[],
  chat: ReturnType<typeof createChatOperations>,
  api: ReturnType<typeof createApiOperations>,
  cancelStop: ReturnType<typeof createCancelStopOperations>,
) {
  const { chatTurn, regenerateOrEdit, concurrentTurns, stopThenAsk, deleteConversation } = chat;
  const { messagesCall, identicalMessagesCalls, uiResumeOrRetry, uiChat, job, cancelJob } = api;
  return async function operation(rand: Random) {
    const userId = users[Math.floor(rand() * users.length)]!;
    const drawn = rand();
    // Running jobs cancelled, useChat answers stopped by their question, a zero budget's calls.
    if (drawn < 0.03) return cancelStop.cancelRunningJob(rand, userId);
    if (drawn < 0.06) return cancelStop.stopUiAnswer(rand, userId);
    if (drawn < 0.08) return cancelStop.zeroBudgetCall(rand);
    // The rest of the mix, as it was before those were added.
    const pick = (drawn - 0.08) / 0.92;
    if (pick < 0.22) return chatTurn(rand, userId);
    if (pick < 0.25) return chatTurn(rand, userId, { stop: 'racing' });
    if (pick < 0.3) return chatTurn(rand, userId, { stop: 'early' });
    if (pick < 0.36) return chatTurn(rand, userId, { stop: 'mid' });
    if (pick < 0.39) return chatTurn(rand, userId, { stop: 'late' });
    if (pick < 0.45) return chatTurn(rand, userId, { resume: true });
    if (pick < 0.48) return chatTurn(rand, userId, { deleteMid: true });
    if (pick < 0.52) return chatTurn(rand, userId, { fault: 'fault=error-mid after=3' });
    if (pick < 0.54) return chatTurn(rand, userId, { fault: 'fault=drop after=2' });
    if (pick < 0.555) return chatTurn(rand, userId, { fault: 'fault=stall after=3' });
    if (pick < 0.56)
      return chatTurn(rand, userId, { fault: 'fault=error-before status=529 should-retry=false' });
    if (pick < 0.63) return regenerateOrEdit(rand, userId);
    if (pick < 0.68) return concurrentTurns(rand, userId);
    if (pick < 0.78) return messagesCall(rand);
    if (pick < 0.8) return identicalMessagesCalls(rand);
    if (pick < 0.87) return uiChat(rand, userId);
    if (pick < 0.93) return job(rand, userId);
    if (pick < 0.95) return deleteConversation(rand, userId);
    if (pick < 0.965) return uiResumeOrRetry(rand, userId);
    if (pick < 0.975) return stopThenAsk(rand, userId);
    if (pick < 0.985) return cancelJob(rand, userId);
    return chatTurn(rand, userId, { slow: true });
  };
}
