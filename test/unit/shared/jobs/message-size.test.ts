import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeJobMessage, jobMessageBytes } from '../../../../shared/jobs/message-size.js';

const job = (text: string) => ({
  type: 'summarize.document' as const,
  jobId: 'job-1',
  userId: 'alice',
  text,
});

describe('job messages on the queue', () => {
  it('escapes characters beyond the BMP, and parse back to the same message', () => {
    const message = job('emoji 😀, family 👩‍👩‍👧, kanji 漢字, accents é̀');
    const body = encodeJobMessage(message);
    expect(body).not.toMatch(/[\u{10000}-\u{10FFFF}]/u);
    expect(body).toContain('\\ud83d\\ude00');
    expect(JSON.parse(body)).toEqual(message);
  });

  it('escapes the noncharacters U+FFFE and U+FFFF, which SQS refuses', () => {
    const message = job('a\uFFFEb\uFFFFc');
    const body = encodeJobMessage(message);
    expect(body).not.toMatch(/[\uFFFE\uFFFF]/);
    expect(body).toContain('a\\ufffeb\\uffffc');
    expect(JSON.parse(body)).toEqual(message);
  });

  // A thousand runs: seconds on a busy machine, more than vitest's default 5.
  it('round-trips any text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (text) => {
        expect(JSON.parse(encodeJobMessage(job(text)))).toEqual(job(text));
      }),
      { numRuns: 1000 },
    );
  }, 30_000);

  it('weighs a message as encoded: escapes count, not characters', () => {
    const plain = jobMessageBytes(job('a'.repeat(100)));
    expect(jobMessageBytes(job('\u0001'.repeat(100)))).toBe(plain + 100 * 5);
    expect(jobMessageBytes(job('😀'.repeat(100)))).toBe(plain + 100 * 11);
  });
});
