/** One Server-Sent Event as the upstream sent it: its exact text, and its parsed data. */
export interface RawEvent {
  /** The event's bytes as text, its blank-line terminator included: relayed unchanged. */
  text: string;
  /** The `event:` field; `message` when absent. */
  name: string;
  /** The `data:` payload parsed as JSON; undefined when it is not JSON. */
  data: unknown;
  /** It has a `data:` payload that is not JSON: no SDK can read it. */
  malformed: boolean;
}

/**
 * Splits an SSE byte stream into events, each kept verbatim so it can be relayed and
 * replayed byte for byte. Decoding is streaming: a character split across chunks stays whole.
 */
export async function* readEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<RawEvent> {
  const decoder = new TextDecoder();
  // What came after the last event, in pieces joined only once a blank line ends an event,
  // and only what came last searched for one: joining and searching it all at each chunk
  // took seconds for one event of a few MB (a web fetch's document) sent in 16 KB chunks.
  let pieces: string[] = [];
  let length = 0;
  // A blank line is at most 4 characters: up to 3 of it may be among those searched already.
  let tail = '';
  const reader = body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      const text = done ? decoder.decode() : decoder.decode(value, { stream: true });
      const found = eventEnd(tail + text);
      pieces.push(text);
      if (found === -1) {
        length += text.length;
        tail = (tail + text).slice(-3);
      } else {
        let buffer = pieces.join('');
        let end = length - tail.length + found;
        while (end !== -1) {
          yield parseEvent(buffer.slice(0, end));
          buffer = buffer.slice(end);
          end = eventEnd(buffer);
        }
        pieces = [buffer];
        length = buffer.length;
        tail = buffer.slice(-3);
      }
      if (done) break;
    }
    // What the stream ended in without a blank line: a whole event is passed on, ended, so
    // what follows it stays apart; one cut short is dropped, as every SSE reader drops it.
    const buffer = pieces.join('');
    const last =
      buffer.trim() === '' ? undefined : parseEvent(`${buffer.replace(/[\r\n]+$/, '')}\n\n`);
    if (last?.data !== undefined) yield last;
  } finally {
    reader.releaseLock();
  }
}

/** The index just past the blank line ending the first event, or -1. */
function eventEnd(buffer: string): number {
  const match = /\r?\n\r?\n|\r\r/.exec(buffer);
  return match ? match.index + match[0].length : -1;
}

function parseEvent(text: string): RawEvent {
  let name = 'message';
  const data: string[] = [];
  for (const line of text.split(/\r?\n|\r/)) {
    if (line.startsWith('event:')) name = line.slice(6).trim();
    else if (line.startsWith('data:')) data.push(line.slice(line.startsWith('data: ') ? 6 : 5));
  }
  const payload = data.join('\n');
  const parsed = parseJson(payload);
  return { text, name, data: parsed, malformed: payload !== '' && parsed === undefined };
}

function parseJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
