import {
  parseJsonEventStream,
  readUIMessageStream,
  type UIMessage,
  uiMessageChunkSchema,
} from 'ai';
import { describe, expect, it } from 'vitest';
import {
  type UiMessageMetadata,
  uiMessageStreamEncoder,
} from '../../../../../functions/chat/protocols/ui-message-stream.js';
import type { TurnEvent } from '../../../../../functions/chat/turn/turn-types.js';
import { ModelError } from '../../../../../shared/domain/errors.js';

const USAGE = {
  inputTokens: 12,
  outputTokens: 3,
  cacheReadInputTokens: 4,
  cacheCreationInputTokens: 5,
};
const start: TurnEvent = {
  type: 'start',
  conversationId: 'conv_1',
  messageId: 'msg_1',
  model: 'claude-sonnet-4-6',
};
const done = (stopReason: 'end_turn' | 'max_tokens' | 'stopped' | 'timeout'): TurnEvent => ({
  type: 'done',
  messageId: 'msg_1',
  stopReason,
  usage: USAGE,
  costNanoUsd: 123_000,
});

function encode(events: TurnEvent[]): string {
  const encoder = uiMessageStreamEncoder();
  return events.map(encoder).join('');
}

/** The SSE body as the AI SDK's DefaultChatTransport parses and validates it. */
function chunkStream(body: string) {
  const bytes = new Response(body).body!;
  return parseJsonEventStream({ stream: bytes, schema: uiMessageChunkSchema }).pipeThrough(
    new TransformStream({
      transform(result, controller) {
        if (!result.success) throw result.error;
        controller.enqueue(result.value);
      },
    }),
  );
}

async function lastMessage(body: string) {
  let message: UIMessage<UiMessageMetadata> | undefined;
  const errors: unknown[] = [];
  for await (const snapshot of readUIMessageStream<UIMessage<UiMessageMetadata>>({
    stream: chunkStream(body),
    onError: (error) => errors.push(error),
  })) {
    message = snapshot;
  }
  return { message, errors };
}

const dataLines = (body: string) =>
  body
    .split('\n\n')
    .filter(Boolean)
    .map((frame) => frame.replace(/^data: /, ''));

describe('the UI message stream encoder', () => {
  it('encodes a turn as start, a step with one text part, metadata with usage and cost, finish and [DONE]', () => {
    const body = encode([
      start,
      { type: 'text', text: 'Hel' },
      { type: 'text', text: 'lo' },
      done('end_turn'),
    ]);
    const lines = dataLines(body);
    expect(lines.at(-1)).toBe('[DONE]');
    expect(lines.slice(0, -1).map((line) => JSON.parse(line))).toEqual([
      {
        type: 'start',
        messageId: 'msg_1',
        messageMetadata: { conversationId: 'conv_1', model: 'claude-sonnet-4-6' },
      },
      { type: 'start-step' },
      { type: 'text-start', id: 'text-0' },
      { type: 'text-delta', id: 'text-0', delta: 'Hel' },
      { type: 'text-delta', id: 'text-0', delta: 'lo' },
      { type: 'text-end', id: 'text-0' },
      { type: 'finish-step' },
      {
        type: 'message-metadata',
        messageMetadata: { stopReason: 'end_turn', usage: USAGE, costUsd: 0.000123 },
      },
      { type: 'finish', finishReason: 'stop' },
    ]);
  });

  it('says when the usage is estimated (an answer cut before Claude counted it), ended or failed, as the stored messages say', () => {
    const metadataOf = (end: TurnEvent) =>
      dataLines(encode([start, { type: 'text', text: 'Hel' }, end]))
        .filter((line) => line !== '[DONE]')
        .map((line) => JSON.parse(line))
        .find((chunk) => chunk.type === 'message-metadata')?.messageMetadata;
    const billed = {
      messageId: 'msg_1',
      usage: USAGE,
      usageEstimated: true,
      costNanoUsd: 1,
    } as const;

    const stopped = done('stopped') as Extract<TurnEvent, { type: 'done' }>;
    expect(metadataOf({ ...stopped, usageEstimated: true }).usage).toEqual({
      ...USAGE,
      estimated: true,
    });
    expect(
      metadataOf({ type: 'error', error: new ModelError('overloaded', 'busy'), billed }).usage,
    ).toEqual({ ...USAGE, estimated: true });
    expect(metadataOf(done('end_turn')).usage).toEqual(USAGE);
  });

  it('is read by the AI SDK into one assistant message with its text and metadata', async () => {
    const { message, errors } = await lastMessage(
      encode([
        start,
        { type: 'text', text: 'Hello, ' },
        { type: 'text', text: 'world' },
        done('end_turn'),
      ]),
    );
    expect(errors).toEqual([]);
    expect(message).toMatchObject({
      id: 'msg_1',
      role: 'assistant',
      parts: [{ type: 'step-start' }, { type: 'text', text: 'Hello, world', state: 'done' }],
      metadata: {
        conversationId: 'conv_1',
        model: 'claude-sonnet-4-6',
        stopReason: 'end_turn',
        usage: USAGE,
        costUsd: 0.000123,
      },
    });
  });

  it.each([
    ['max_tokens', 'length'],
    ['stopped', 'other'],
    ['timeout', 'interrupted'],
  ] as const)('ends a turn stopped by %s with the finish reason %s', (stopReason, finishReason) => {
    const lines = dataLines(encode([start, done(stopReason)]));
    expect(JSON.parse(lines.at(-2)!)).toEqual({ type: 'finish', finishReason });
  });

  it('sends no text part for an answer stopped before its first token', () => {
    const types = dataLines(encode([start, done('stopped')]))
      .slice(0, -1)
      .map((line) => JSON.parse(line).type);
    expect(types).toEqual(['start', 'start-step', 'finish-step', 'message-metadata', 'finish']);
  });

  it('ends a turn that failed mid-stream with the error type in metadata, then error and [DONE]', async () => {
    const body = encode([
      start,
      { type: 'text', text: 'partial' },
      { type: 'error', error: new ModelError('overloaded', 'Claude is overloaded; retry later') },
    ]);
    const lines = dataLines(body);
    expect(lines.at(-1)).toBe('[DONE]');
    expect(JSON.parse(lines.at(-2)!)).toEqual({
      type: 'error',
      errorText: 'Claude is overloaded; retry later',
    });

    const { message, errors } = await lastMessage(body);
    expect(errors.map((error) => (error as Error).message)).toEqual([
      'Claude is overloaded; retry later',
    ]);
    expect(message?.parts.at(-1)).toMatchObject({ type: 'text', text: 'partial', state: 'done' });
    expect(message?.metadata).toMatchObject({
      stopReason: 'error',
      error: { type: 'overloaded_error', retryable: true },
    });
  });

  it('ends a resumed stream told to resume again as interrupted, with no stop reason and no error', async () => {
    const body = encode([
      start,
      { type: 'text', text: 'so far' },
      {
        type: 'error',
        error: new ModelError('timeout', 'still streaming: resume again to follow it'),
        answerGoesOn: true,
      },
    ]);
    const lines = dataLines(body);
    expect(lines.slice(-3)).toEqual([
      JSON.stringify({ type: 'finish-step' }),
      JSON.stringify({ type: 'finish', finishReason: 'interrupted' }),
      '[DONE]',
    ]);

    const { message, errors } = await lastMessage(body);
    expect(errors).toEqual([]);
    expect(message?.parts.at(-1)).toMatchObject({ type: 'text', text: 'so far', state: 'done' });
    expect(message?.metadata?.stopReason).toBeUndefined();
  });
});
