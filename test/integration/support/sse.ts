export interface SseEvent {
  event: string;
  data: Record<string, unknown>;
  /** Its `id:` line, when it has one. */
  id?: string;
}

/** Reads a Server-Sent Events response as it arrives; comment lines are counted apart. */
export async function* readSse(
  response: Response,
  onComment?: (comment: string) => void,
): AsyncGenerator<SseEvent> {
  if (!response.body) return;
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true });
    let end = buffer.indexOf('\n\n');
    while (end !== -1) {
      const frame = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const lines = frame.split('\n');
      for (const line of lines.filter((l) => l.startsWith(':'))) onComment?.(line.slice(1).trim());
      const event = lines.find((l) => l.startsWith('event: '))?.slice(7);
      const data = lines.find((l) => l.startsWith('data: '))?.slice(6);
      const id = lines.find((l) => l.startsWith('id: '))?.slice(4);
      if (event && data) yield { event, data: JSON.parse(data), ...(id !== undefined && { id }) };
      end = buffer.indexOf('\n\n');
    }
  }
}

/** All events of a stream, to its end. */
export async function collectSse(response: Response): Promise<SseEvent[]> {
  const events: SseEvent[] = [];
  for await (const event of readSse(response)) events.push(event);
  return events;
}

export function answerText(events: SseEvent[]): string {
  return events
    .filter((e) => e.event === 'delta')
    .map((e) => String(e.data.text))
    .join('');
}

/** A response's JSON body, loosely typed: tests assert its shape. */
// biome-ignore lint/suspicious/noExplicitAny: response bodies are checked by assertions, not types
export async function json(response: Response): Promise<any> {
  return response.json();
}
