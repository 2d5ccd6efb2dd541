import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type RawEvent, readEvents } from '../../../../../functions/chat/messages/sse-events.js';

const encoder = new TextEncoder();

function sse(name: string, data: unknown, newline = '\n'): string {
  return `event: ${name}${newline}data: ${JSON.stringify(data)}${newline}${newline}`;
}

/** An answer as the Messages API streams it, with text of every UTF-8 width. */
const ANSWER_EVENTS: Array<[string, unknown]> = [
  [
    'message_start',
    {
      type: 'message_start',
      message: {
        id: 'msg_01',
        type: 'message',
        role: 'assistant',
        model: 'claude-sonnet-4-5-20250929',
        content: [],
        stop_reason: null,
        usage: { input_tokens: 25, output_tokens: 1 },
      },
    },
  ],
  [
    'content_block_start',
    { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
  ],
  ['ping', { type: 'ping' }],
  [
    'content_block_delta',
    { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Héllo 😀 ' } },
  ],
  [
    'content_block_delta',
    { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: '漢字かな 🐈‍⬛' } },
  ],
  ['content_block_stop', { type: 'content_block_stop', index: 0 }],
  [
    'message_delta',
    {
      type: 'message_delta',
      delta: { stop_reason: 'end_turn', stop_sequence: null },
      usage: { output_tokens: 12 },
    },
  ],
  ['message_stop', { type: 'message_stop' }],
];
const ANSWER_TEXTS = ANSWER_EVENTS.map(([name, data]) => sse(name, data));
const ANSWER = ANSWER_TEXTS.join('');
const ANSWER_BYTES = encoder.encode(ANSWER);

function streamOf(chunks: readonly Uint8Array[]): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(chunk);
      controller.close();
    },
  });
}

/** The bytes cut at each of `cuts` (sorted, within the bytes). */
function chunked(bytes: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const bounds = [0, ...cuts, bytes.length];
  return bounds.slice(1).map((end, i) => bytes.slice(bounds[i], end));
}

async function eventsOf(chunks: readonly Uint8Array[]): Promise<RawEvent[]> {
  const events: RawEvent[] = [];
  for await (const event of readEvents(streamOf(chunks))) events.push(event);
  return events;
}

const expectedEvents = (texts: readonly string[]) =>
  texts.map((text, i) => ({
    text,
    name: ANSWER_EVENTS[i]![0],
    data: ANSWER_EVENTS[i]![1],
    malformed: false,
  }));

describe('readEvents', () => {
  it('yields each event whole, with its name and parsed data', async () => {
    const events = await eventsOf([ANSWER_BYTES]);

    expect(events).toEqual(expectedEvents(ANSWER_TEXTS));
  });

  it('yields the same events wherever the stream is split in two, even inside a character or the blank line', async () => {
    const insideEmoji = ANSWER_BYTES.indexOf(0xf0) + 2;
    const insideBlankLine = encoder.encode(ANSWER_TEXTS[0]!).length - 1;
    expect(new TextDecoder().decode(ANSWER_BYTES.slice(insideEmoji - 2, insideEmoji + 2))).toBe(
      '😀',
    );
    expect(ANSWER.slice(insideBlankLine - 1, insideBlankLine + 1)).toBe('\n\n');

    for (let cut = 0; cut <= ANSWER_BYTES.length; cut++) {
      const events = await eventsOf(chunked(ANSWER_BYTES, [cut]));

      expect(events, `split at byte ${cut}`).toEqual(expectedEvents(ANSWER_TEXTS));
    }
  });

  it('yields the same events when every byte comes on its own', async () => {
    const bytes = [...ANSWER_BYTES].map((byte) => Uint8Array.of(byte));

    expect(await eventsOf(bytes)).toEqual(expectedEvents(ANSWER_TEXTS));
  });

  it('reads events whose lines end in \\r\\n, keeping their text as sent, however split', async () => {
    const texts = ANSWER_EVENTS.map(([name, data]) => sse(name, data, '\r\n'));
    const bytes = encoder.encode(texts.join(''));

    for (let cut = 0; cut <= bytes.length; cut++) {
      const events = await eventsOf(chunked(bytes, [cut]));

      expect(events, `split at byte ${cut}`).toEqual(expectedEvents(texts));
    }
  });

  it('gives undefined data for a data line that is not JSON, and calls the event malformed', async () => {
    const events = await eventsOf([encoder.encode('event: ping\ndata: not json {\n\n')]);

    expect(events).toEqual([
      { text: 'event: ping\ndata: not json {\n\n', name: 'ping', data: undefined, malformed: true },
    ]);
  });

  it('gives undefined data for an event without a data line, not malformed', async () => {
    const events = await eventsOf([encoder.encode('event: ping\n\n')]);

    expect(events).toEqual([
      { text: 'event: ping\n\n', name: 'ping', data: undefined, malformed: false },
    ]);
  });

  it('names an event without an event line `message`', async () => {
    const events = await eventsOf([encoder.encode('data: {"a":1}\n\n')]);

    expect(events).toEqual([
      { text: 'data: {"a":1}\n\n', name: 'message', data: { a: 1 }, malformed: false },
    ]);
  });

  it('joins the lines of a multi-line data field, with or without the space after the colon', async () => {
    const text = 'event: x\ndata:{"a":\ndata: [1,\ndata: 2]}\n\n';

    const events = await eventsOf([encoder.encode(text)]);

    expect(events).toEqual([{ text, name: 'x', data: { a: [1, 2] }, malformed: false }]);
  });

  it('yields a whole last event that no blank line ends, ended by one', async () => {
    const last = 'event: message_stop\ndata: {"type":"message_stop"}';

    const events = await eventsOf([encoder.encode(ANSWER_TEXTS[0]! + last)]);

    expect(events.at(-1)).toEqual({
      text: `${last}\n\n`,
      name: 'message_stop',
      data: { type: 'message_stop' },
      malformed: false,
    });
    expect(events).toHaveLength(2);
  });

  it('drops a last event cut short, as an SSE reader does: what follows must not be glued to it', async () => {
    const cut = 'event: content_block_delta\ndata: {"type":"content_block_del';

    const events = await eventsOf([encoder.encode(ANSWER_TEXTS[0]! + cut)]);

    expect(events.map((event) => event.text)).toEqual([ANSWER_TEXTS[0]]);
  });

  it('yields nothing for an empty stream', async () => {
    expect(await eventsOf([])).toEqual([]);
  });

  it('reproduces the stream exactly from the texts of its events, however it is chunked', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.integer({ min: 1, max: ANSWER_BYTES.length - 1 }), { maxLength: 40 }),
        async (cuts) => {
          const events = await eventsOf(
            chunked(
              ANSWER_BYTES,
              [...cuts].sort((a, b) => a - b),
            ),
          );

          expect(events.map((event) => event.text).join('')).toBe(ANSWER);
          expect(events.map((event) => event.name)).toEqual(ANSWER_EVENTS.map(([name]) => name));
        },
      ),
    );
  });
  it('finds where events end wherever a chunk cuts a blank line, of every kind', async () => {
    const blankLine = fc.constantFrom('\n\n', '\r\r', '\r\n\r\n', '\n\r\n', '\r\n\n');
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 50 }), blankLine), {
          minLength: 1,
          maxLength: 6,
        }),
        fc.uniqueArray(fc.integer({ min: 1, max: 400 }), { maxLength: 30 }),
        async (shapes, cuts) => {
          const texts = shapes.map(([n, end]) => `data: {"n":${n}}${end}`);
          const bytes = encoder.encode(texts.join(''));
          const inside = cuts.filter((cut) => cut < bytes.length).sort((a, b) => a - b);

          const events = await eventsOf(chunked(bytes, inside));

          expect(events.map((event) => event.text)).toEqual(texts);
        },
      ),
    );
  });

  it('reads an event of several MB, however many chunks it comes in, at once (each chunk searched it all)', async () => {
    const text = `event: content_block_start\ndata: {"data":"${'A'.repeat(8 * 1024 * 1024)}"}\n\n`;
    const bytes = encoder.encode(text);
    const cuts = Array.from(
      { length: Math.floor(bytes.length / 16_384) },
      (_, i) => (i + 1) * 16_384,
    );
    const startedAtMs = Date.now();

    const events = await eventsOf(chunked(bytes, cuts));

    expect(Date.now() - startedAtMs).toBeLessThan(2_000);
    expect(events).toHaveLength(1);
    expect(events[0]!.text.length).toBe(text.length);
  });
});
