import { readSse } from '../sse.js';
import type { SoakLog } from './soak-log.js';

export interface ChatEvent {
  event: string;
  data: Record<string, unknown>;
  id?: string;
}

/**
 * Reads a chat stream; `onEvent` decides after each event whether to stop reading (and how).
 * The text shown is what the deltas carried, kept with the answer's id (unless `keepShown` is
 * false: the caller keeps it, joined to what it showed before).
 */
export async function readChat(
  log: SoakLog,
  userId: string,
  response: Response,
  controller: AbortController,
  onEvent?: (event: ChatEvent, deltas: number) => Promise<'go' | 'drop'>,
  keepShown = true,
) {
  let conversationId = '';
  let messageId = '';
  let text = '';
  let lastId = '';
  let deltas = 0;
  let ended = '';
  try {
    for await (const event of readSse(response)) {
      if (event.id) lastId = event.id;
      if (event.event === 'start') {
        conversationId = String(event.data.conversationId);
        messageId = String(event.data.messageId);
      }
      if (event.event === 'delta') {
        text += String(event.data.text);
        deltas++;
      }
      if (event.event === 'done' || event.event === 'error') ended = event.event;
      if (onEvent && (await onEvent(event, deltas)) === 'drop') {
        controller.abort();
        break;
      }
    }
  } catch (error) {
    if (!controller.signal.aborted) log.failures.push(`${userId} stream broke: ${String(error)}`);
  }
  if (messageId && keepShown) log.shown.push({ userId, conversationId, messageId, text });
  if (conversationId && !log.conversations.get(userId)!.includes(conversationId)) {
    log.conversations.get(userId)!.push(conversationId);
  }
  return { conversationId, messageId, text, lastId, ended };
}
