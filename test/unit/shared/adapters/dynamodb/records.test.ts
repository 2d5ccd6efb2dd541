import { describe, expect, it } from 'vitest';
import { toMessage } from '../../../../../shared/adapters/dynamodb/records.js';

const answerItem = (extra: Record<string, unknown> = {}) => ({
  id: 'msg_1',
  seq: 2,
  role: 'assistant',
  content: 'Once upon',
  createdAt: '2026-12-02T10:00:00.000Z',
  stopReason: 'error',
  ...extra,
});

describe("a stored answer's failure, read back", () => {
  it('is read as it was stored', () => {
    const failure = { kind: 'overloaded', message: 'the model is overloaded; try again shortly' };

    expect(toMessage(answerItem({ failure })).failure).toEqual(failure);
  });

  it.each([
    ['stored before failures were kept', answerItem()],
    ['of a kind this version does not know', answerItem({ failure: { kind: 'x', message: 'm' } })],
    ['without its message', answerItem({ failure: { kind: 'timeout' } })],
    ['not a map', answerItem({ failure: 'overloaded' })],
  ])('is none for an answer %s, which reads as failed only', (_, item) => {
    const message = toMessage(item);

    expect(message).not.toHaveProperty('failure');
    expect(message.stopReason).toBe('error');
  });
});
