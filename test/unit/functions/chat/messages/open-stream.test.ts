import { afterEach, describe, expect, it } from 'vitest';
import { openStream } from '../../../../../functions/chat/messages/open-stream.js';
import { TurnController } from '../../../../../functions/chat/turn/turn-controller.js';
import type { UpstreamResponse } from '../../../../../shared/ports/messages-upstream.js';

const encoder = new TextEncoder();
const event = (name: string, data: unknown) => `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;
const refusal = (type: string) =>
  event('error', { type: 'error', error: { type, message: `refused: ${type}` } });
const MESSAGE_START = event('message_start', { type: 'message_start', message: { usage: {} } });

/** A response whose body sends `chunks`, then ends, fails with `end` or stays open. */
function response(
  chunks: string[],
  end: 'close' | 'open' | Error = 'close',
): UpstreamResponse & { cancelled: boolean } {
  const answer = {
    status: 200,
    contentType: 'text/event-stream',
    cancelled: false,
    body: new ReadableStream<Uint8Array>({
      start(controller) {
        for (const chunk of chunks) controller.enqueue(encoder.encode(chunk));
        if (end instanceof Error) controller.error(end);
        else if (end === 'close') controller.close();
      },
      cancel() {
        answer.cancelled = true;
      },
    }),
  };
  return answer;
}

async function texts(events: AsyncIterable<{ text: string }>): Promise<string[]> {
  const seen: string[] = [];
  for await (const { text } of events) seen.push(text);
  return seen;
}

describe('openStream', () => {
  const controllers: TurnController[] = [];
  const open = (responses: Array<UpstreamResponse>, maxRetries = 2) => {
    const controller = new TurnController(60_000);
    controllers.push(controller);
    let sent = 0;
    const send = async () => responses[sent++]!;
    return {
      sent: () => sent,
      opened: openStream({
        send,
        controller,
        firstByteTimeoutMs: 10_000,
        idleTimeoutMs: 10_000,
        maxRetries,
      }),
    };
  };
  afterEach(async () => {
    await Promise.all(controllers.splice(0).map((controller) => controller.dispose()));
  });

  it('sends again a call refused by its first event (closing the refused one), then relays the answer from its first event on', async () => {
    const shed = response([refusal('overloaded_error')], 'open');
    const { opened, sent } = open([shed, response([MESSAGE_START, event('ping', {})])]);

    const { events, refusal: refused } = await opened;

    expect(sent()).toBe(2);
    expect(shed.cancelled).toBe(true);
    expect(refused).toBeUndefined();
    expect(await texts(events)).toEqual([MESSAGE_START, event('ping', {})]);
  });

  it('hands back the refusal once the retries are spent, as the API sent it', async () => {
    const { opened, sent } = open(
      [response([refusal('api_error')]), response([refusal('overloaded_error')])],
      1,
    );

    const { refusal: refused } = await opened;

    expect(sent()).toBe(2);
    expect(refused?.eventText).toBe(refusal('overloaded_error'));
    expect(refused?.error).toMatchObject({ status: 529, type: 'overloaded_error' });
  });

  it('looks past pings for the first event: a refusal after them is sent again, and the answer keeps its pings', async () => {
    const PING = event('ping', { type: 'ping' });
    const shed = response([PING, refusal('overloaded_error')], 'open');
    const { opened, sent } = open([shed, response([PING, MESSAGE_START])]);

    const { events, refusal: refused } = await opened;

    expect(sent()).toBe(2);
    expect(shed.cancelled).toBe(true);
    expect(refused).toBeUndefined();
    expect(await texts(events)).toEqual([PING, MESSAGE_START]);
  });

  it('hands back a refusal after pings as its one event once the retries are spent', async () => {
    const PING = event('ping', { type: 'ping' });
    const { opened, sent } = open([response([PING, PING, refusal('overloaded_error')])], 0);

    const { refusal: refused } = await opened;

    expect(sent()).toBe(1);
    expect(refused?.eventText).toBe(refusal('overloaded_error'));
    expect(refused?.error).toMatchObject({ status: 529, type: 'overloaded_error' });
  });

  it('does not send again a refusal no retry can fix', async () => {
    const { opened, sent } = open([response([refusal('invalid_request_error')])]);

    const { refusal: refused } = await opened;

    expect(sent()).toBe(1);
    expect(refused?.error).toMatchObject({ status: 400, type: 'invalid_request_error' });
  });

  /** A response that says nothing until `signal` aborts it, as fetch's body does then. */
  const silentUntilAborted = (signal: AbortSignal): UpstreamResponse => ({
    status: 200,
    contentType: 'text/event-stream',
    body: new ReadableStream<Uint8Array>({
      start(controller) {
        signal.addEventListener('abort', () => controller.error(signal.reason), { once: true });
      },
    }),
  });

  it('ends the wait for a first event that does not come with the idle watchdog', async () => {
    const controller = new TurnController(60_000);
    controllers.push(controller);

    const { events, refusal: refused } = await openStream({
      send: async () => silentUntilAborted(controller.signal),
      controller,
      firstByteTimeoutMs: 10_000,
      idleTimeoutMs: 20,
      maxRetries: 2,
    });

    expect(controller.interruptedBy).toBe('idle');
    expect(refused).toBeUndefined();
    await expect(texts(events)).rejects.toThrow('turn interrupted: idle');
  });

  it('sends nothing again once the deadline passes while it backs off', async () => {
    // The deadline passes within the first back-off (at least 375 ms).
    const controller = new TurnController(100);
    controllers.push(controller);
    let sent = 0;

    const opened = openStream({
      send: async () => {
        sent++;
        return response([refusal('overloaded_error')]);
      },
      controller,
      firstByteTimeoutMs: 10_000,
      idleTimeoutMs: 10_000,
      maxRetries: 2,
    });

    await expect(opened).rejects.toThrow();
    expect(controller.interruptedBy).toBe('timeout');
    expect(sent).toBe(1);
  });

  it('passes on a stream broken before its first event as the first thing its events throw', async () => {
    const { opened, sent } = open([response([], new TypeError('terminated'))]);

    const { events, refusal: refused } = await opened;

    expect(sent()).toBe(1);
    expect(refused).toBeUndefined();
    await expect(texts(events)).rejects.toThrow('terminated');
  });
});
