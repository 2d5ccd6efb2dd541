import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { jobMessageJsonSchema } from '../../../../scripts/generate-job-schema.js';
import { compactionJobId, jobIdOf } from '../../../../shared/jobs/job-id.js';
import { JobMessageSchema } from '../../../../shared/jobs/job-message.js';

describe('job messages', () => {
  const document = {
    type: 'summarize.document',
    userId: 'user-1',
    text: 'Some document.',
  } as const;

  it('gives the same document the same job id, so a retrying producer makes one job', () => {
    expect(jobIdOf(document)).toBe(jobIdOf({ ...document }));
    expect(jobIdOf(document)).toMatch(/^job_[a-f0-9]{32}$/);
    expect(jobIdOf({ ...document, text: 'Another document.' })).not.toBe(jobIdOf(document));
    expect(jobIdOf({ ...document, userId: 'user-2' })).not.toBe(jobIdOf(document));
  });

  it('keeps an explicit job id', () => {
    const jobId = `job_${'a'.repeat(32)}`;
    expect(jobIdOf({ ...document, jobId })).toBe(jobId);
  });

  it('takes a document named with an id of the form the service gives (a producer may name its jobs so)', () => {
    const jobId = `job_${'a'.repeat(32)}`;
    expect(JobMessageSchema.safeParse({ ...document, jobId }).success).toBe(true);
  });

  it('names one compaction job per conversation, summary point and threshold multiple', () => {
    const conversation = { id: `conv_${'b'.repeat(32)}`, createdAt: '2026-11-01T00:00:00.000Z' };
    expect(compactionJobId('u', conversation, 10, 1)).toBe(
      compactionJobId('u', conversation, 10, 1),
    );
    expect(compactionJobId('u', conversation, 12, 1)).not.toBe(
      compactionJobId('u', conversation, 10, 1),
    );
    expect(compactionJobId('u', conversation, 10, 2)).not.toBe(
      compactionJobId('u', conversation, 10, 1),
    );
    // Deleted and made again under its id: another conversation.
    const remade = { ...conversation, createdAt: '2026-11-02T00:00:00.000Z' };
    expect(compactionJobId('u', remade, 10, 1)).not.toBe(compactionJobId('u', conversation, 10, 1));
  });

  it('rejects unknown types, unknown fields and bad user ids', () => {
    expect(JobMessageSchema.safeParse({ ...document, type: 'translate' }).success).toBe(false);
    expect(JobMessageSchema.safeParse({ ...document, extra: 1 }).success).toBe(false);
    for (const userId of ['a b', '.', '..']) {
      expect(JobMessageSchema.safeParse({ ...document, userId }).success, userId).toBe(false);
    }
    for (const jobId of ['.', '..', 'a/b']) {
      expect(JobMessageSchema.safeParse({ ...document, jobId }).success, jobId).toBe(false);
    }
    expect(JobMessageSchema.safeParse({ ...document, jobId: 'v1.2..3' }).success).toBe(true);
    expect(
      JobMessageSchema.safeParse({
        type: 'summarize.conversation',
        userId: 'u',
        conversationId: 'x',
      }).success,
    ).toBe(false);
  });

  it('publishes a JSON Schema for producers that matches the zod schema (run npm run docs)', () => {
    const committed = readFileSync(
      new URL('../../../../docs/job-message.schema.json', import.meta.url),
      'utf8',
    );
    expect(committed).toBe(jobMessageJsonSchema());
  });
});
