import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { jobMessageJsonSchema } from '../../../../scripts/generate-job-schema.js';
import {
  compactionJobId,
  jobIdOf,
  SERVICE_JOB_ID_REFUSAL,
} from '../../../../shared/jobs/job-id.js';
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

  it("refuses a document naming an id of the form the service gives, unless it is its content's own", () => {
    const conversation = { id: `conv_${'b'.repeat(32)}`, createdAt: '2026-11-01T00:00:00.000Z' };
    const compactionId = compactionJobId('user-1', conversation, 0, 1);

    const refused = JobMessageSchema.safeParse({ ...document, jobId: compactionId });
    expect(refused.success).toBe(false);
    expect(refused.error?.issues).toEqual([
      expect.objectContaining({ path: ['jobId'], message: SERVICE_JOB_ID_REFUSAL }),
    ]);
    expect(JobMessageSchema.safeParse({ ...document, jobId: jobIdOf(document) }).success).toBe(
      true,
    );
    // Only that exact form: a producer's own ids are theirs.
    for (const jobId of ['job_1', `job_${'a'.repeat(32)}:v2`, `JOB_${'a'.repeat(32)}`]) {
      expect(JobMessageSchema.safeParse({ ...document, jobId }).success).toBe(true);
    }
    // The service's own messages name them.
    expect(
      JobMessageSchema.safeParse({
        type: 'summarize.conversation',
        userId: 'user-1',
        conversationId: conversation.id,
        jobId: compactionId,
      }).success,
    ).toBe(true);
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
