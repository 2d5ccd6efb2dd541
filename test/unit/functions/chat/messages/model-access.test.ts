import { describe, expect, it } from 'vitest';
import { checkBetas } from '../../../../../functions/chat/messages/model-access.js';

describe('checkBetas', () => {
  const limits = { allowedBetas: ['interleaved-thinking-2025-05-14'] };

  it.each(['constructor', 'toString', '__proto__', 'hasOwnProperty'])(
    "refuses a beta named like an object's own machinery (%s) with no way around it",
    (beta) => {
      expect(() => checkBetas([beta], limits)).toThrow(
        expect.objectContaining({
          message: `anthropic-beta: ${beta} not allowed here (the allowedBetas setting)`,
        }),
      );
    },
  );

  it('says what to do instead of a refused beta an SDK sends by default', () => {
    expect(() => checkBetas(['message-threads-2026-08-12'], limits)).toThrow(/thread: false/);
  });
});
