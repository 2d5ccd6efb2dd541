import { describe, expect, it } from 'vitest';
import { jobEndedEvent } from '../../../../shared/events/producer-events.js';

/** SNS takes at most 256 KiB a message. */
const SNS_MAX_BYTES = 256 * 1024;
const bytesOf = (event: unknown) => new TextEncoder().encode(JSON.stringify(event)).length;

describe('job.ended events', () => {
  const ended = (summary: string) =>
    jobEndedEvent(
      { jobId: 'report-7', userId: 'alice' },
      { status: 'succeeded', summary },
      '2026-12-01T00:00:00.000Z',
    );

  it('carry a summary inline when it fits', () => {
    expect(ended('Q3 went well.').result).toEqual({ summary: 'Q3 went well.' });
  });

  it('send a summary by reference when its JSON would not fit SNS, escapes counted (they were not)', () => {
    // 199,998 bytes of text; as JSON, quotes take 2 bytes and control characters 6.
    for (const text of ['"'.repeat(199_998), '\u0001'.repeat(199_998)]) {
      const event = ended(text);

      expect(event.result).toEqual({ summaryBytes: 199_998, fetch: 'GET /v1/jobs/report-7' });
      expect(bytesOf(event)).toBeLessThan(SNS_MAX_BYTES);
    }
  });

  it("send a conversation's summary too long to go inline by its size only: its job keeps none to fetch", () => {
    const summary = 'x'.repeat(250_000);
    const event = jobEndedEvent(
      { jobId: 'compaction-3', userId: 'alice', type: 'summarize.conversation' },
      { status: 'succeeded', summary },
      '2026-12-01T00:00:00.000Z',
    );

    expect(event.result).toEqual({ summaryBytes: 250_000 });
  });

  it('say a summary was cut at its limit, inline or by reference', () => {
    const cut = (summary: string) =>
      jobEndedEvent(
        { jobId: 'report-8', userId: 'alice', type: 'summarize.document' },
        { status: 'succeeded', summary, truncated: true },
        '2026-12-01T00:00:00.000Z',
      ).result;

    expect(cut('Q3 went')).toEqual({ summary: 'Q3 went', truncated: true });
    expect(cut('x'.repeat(250_000))).toEqual({
      summaryBytes: 250_000,
      fetch: 'GET /v1/jobs/report-8',
      truncated: true,
    });
  });
});
