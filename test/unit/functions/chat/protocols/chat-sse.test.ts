import { describe, expect, it } from 'vitest';
import {
  chatEventEncoder,
  parseEventId,
} from '../../../../../functions/chat/protocols/chat-sse.js';
import { ModelError } from '../../../../../shared/domain/errors.js';
import { ZERO_USAGE } from '../../../../../shared/domain/usage.js';

const MESSAGE = `msg_${'0123456789abcdef'.repeat(2)}`;

describe('chat stream event ids', () => {
  it('name the answer and how much of it the client has, from the start event on', () => {
    const encode = chatEventEncoder(3);
    const ids = [
      encode({ type: 'start', conversationId: 'conv_1', messageId: MESSAGE, model: 'm' }),
      encode({ type: 'text', text: 'Hello' }),
      encode({ type: 'text', text: '🙂' }),
    ].map((frame) => /^id: (.+)$/m.exec(frame)?.[1]);

    expect(ids).toEqual([`${MESSAGE}:3`, `${MESSAGE}:8`, `${MESSAGE}:10`]);
  });

  it.each([
    { type: 'done', messageId: MESSAGE, stopReason: 'end_turn', usage: ZERO_USAGE, costNanoUsd: 0 },
    { type: 'error', error: new ModelError('overloaded', 'busy') },
  ] as const)(
    "name the answer's end apart: a client with all its text may lack the $type",
    (end) => {
      const encode = chatEventEncoder();
      encode({ type: 'start', conversationId: 'conv_1', messageId: MESSAGE, model: 'm' });
      encode({ type: 'text', text: 'Hello' });

      expect(/^id: (.+)$/m.exec(encode(end))?.[1]).toBe(`${MESSAGE}:end`);
    },
  );

  it('say in the end event when its usage is estimated: the answer was cut before Claude counted it', () => {
    const encode = chatEventEncoder();
    encode({ type: 'start', conversationId: 'conv_1', messageId: MESSAGE, model: 'm' });
    const usage = { ...ZERO_USAGE, outputTokens: 4 };
    const dataOf = (frame: string) => JSON.parse(/^data: (.+)$/m.exec(frame)![1]!);

    const done = dataOf(
      encode({
        type: 'done',
        messageId: MESSAGE,
        stopReason: 'stopped',
        usage,
        usageEstimated: true,
        costNanoUsd: 0,
      }),
    );
    const failed = dataOf(
      encode({
        type: 'error',
        error: new ModelError('overloaded', 'busy'),
        billed: { messageId: MESSAGE, usage, usageEstimated: true, costNanoUsd: 0 },
      }),
    );

    expect(done.usage).toMatchObject({ outputTokens: 4, estimated: true });
    expect(failed.usage).toMatchObject({ outputTokens: 4, estimated: true });
  });

  it("keep a follower's place when its error is not the end: the answer goes on, resumed from there", () => {
    const encode = chatEventEncoder();
    encode({ type: 'start', conversationId: 'conv_1', messageId: MESSAGE, model: 'm' });
    encode({ type: 'text', text: 'Hello' });
    const error = new ModelError('api_error', 'the answer could not be followed: resume again');

    const frame = encode({ type: 'error', error, answerGoesOn: true });

    expect(/^id: (.+)$/m.exec(frame)?.[1]).toBe(`${MESSAGE}:5`);
  });

  it('read back as the answer and its offset, its end, or a bare offset', () => {
    expect(parseEventId(`${MESSAGE}:120`)).toEqual({ messageId: MESSAGE, offset: 120 });
    expect(parseEventId(`${MESSAGE}:end`)).toEqual({ messageId: MESSAGE, offset: 0, ended: true });
    expect(parseEventId('42')).toEqual({ messageId: undefined, offset: 42 });
  });

  it.each([
    '',
    '-1',
    '1e3',
    '0x10',
    ' 5',
    `${MESSAGE}:`,
    `${MESSAGE}:-1`,
    `msg_${'A'.repeat(32)}:1`,
    'msg_1:1',
    'end',
    `${MESSAGE}:ended`,
    '9'.repeat(16),
  ])('are not read from %j', (id) => {
    expect(parseEventId(id)).toBeUndefined();
  });
});
