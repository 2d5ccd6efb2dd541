import type { SoakLog } from './soak-log.js';

/** What a useChat client was shown of one answer. */
export interface UiSeen {
  messageId: string;
  conversationId: string;
  text: string;
}

/** Reads a useChat stream until `deltas` text deltas came (then drops it) or it ends. */
export async function readUiChunks(
  log: SoakLog,
  response: Response,
  deltas: number,
  controller: AbortController,
): Promise<UiSeen> {
  const seen = { messageId: '', conversationId: '', text: '' };
  let count = 0;
  let buffer = '';
  const decoder = new TextDecoder();
  try {
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      for (let end = buffer.indexOf('\n\n'); end !== -1; end = buffer.indexOf('\n\n')) {
        const frame = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        if (!frame.startsWith('data: {')) continue;
        const part = JSON.parse(frame.slice(6)) as Record<string, unknown>;
        if (part.type === 'start') {
          seen.messageId = String(part.messageId ?? '');
          const metadata = part.messageMetadata as Record<string, unknown> | undefined;
          seen.conversationId = String(metadata?.conversationId ?? '');
        }
        if (part.type === 'text-delta') {
          seen.text += String(part.delta);
          count++;
        }
      }
      if (count >= deltas) {
        controller.abort();
        break;
      }
    }
  } catch (error) {
    if (!controller.signal.aborted) log.failures.push(`useChat stream broke: ${String(error)}`);
  }
  return seen;
}

/** Keeps what a useChat client was shown of an answer, and its conversation as the user's. */
export function keepUiShown(log: SoakLog, userId: string, seen: UiSeen) {
  if (!seen.messageId || !seen.conversationId) return;
  log.shown.push({ userId, ...seen });
  const list = log.conversations.get(userId)!;
  if (!list.includes(seen.conversationId)) list.push(seen.conversationId);
}
