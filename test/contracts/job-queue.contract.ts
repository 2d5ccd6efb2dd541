import { randomUUID } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import { newJobId } from '../../shared/domain/ids.js';
import type { SummarizeDocumentMessage } from '../../shared/jobs/job-message.js';
import type { JobQueue } from '../../shared/ports/job-queue.js';

export interface JobQueueSubject {
  /** A queue nothing else sends to. */
  queue: JobQueue;
  /** What the worker would receive: every message delivered so far, once `count` have arrived. */
  delivered(count: number): Promise<unknown[]>;
}

const documentJob = (
  fields: Partial<SummarizeDocumentMessage> = {},
): SummarizeDocumentMessage & { jobId: string } => ({
  type: 'summarize.document',
  jobId: newJobId(),
  userId: `contract-${randomUUID()}`,
  text: 'A short memo about Q3.',
  ...fields,
});

const byJobId = (a: unknown, b: unknown) =>
  String((a as { jobId: string }).jobId).localeCompare(String((b as { jobId: string }).jobId));

/** The JobQueue port's behaviour, for the recording fake and the SQS adapter. */
export function jobQueueContract(subject: () => Promise<JobQueueSubject>) {
  let queue: JobQueue;
  let delivered: JobQueueSubject['delivered'];
  beforeEach(async () => {
    ({ queue, delivered } = await subject());
  });

  describe('send', () => {
    it('delivers a message as it was sent, its jobId included', async () => {
      const message = documentJob({ instructions: 'Three bullets.', model: 'claude-haiku-4-5' });

      await queue.send(message);

      expect(await delivered(1)).toEqual([message]);
    });

    it('delivers every message sent, each once', async () => {
      const messages = [documentJob(), documentJob(), documentJob()];

      for (const message of messages) await queue.send(message);

      expect((await delivered(3)).sort(byJobId)).toEqual([...messages].sort(byJobId));
    });

    it('refuses a message over the size limit once JSON-escaped, and sends nothing', async () => {
      // Fits as text, not once each control character becomes a six-byte \\u escape.
      const message = documentJob({ text: '\u0001'.repeat(200_000) });

      await expect(queue.send(message)).rejects.toMatchObject({ name: 'PayloadTooLargeError' });
      await queue.send(documentJob({ text: 'after' }));

      expect((await delivered(1)).map((m) => (m as { text: string }).text)).toEqual(['after']);
    });

    it('delivers a message of emoji and other text beyond the BMP unchanged', async () => {
      const message = documentJob({ text: '😀 漢字 👩‍👩‍👧 é̀'.repeat(1000) });

      await queue.send(message);

      expect(await delivered(1)).toEqual([message]);
    });

    it('delivers the message as it was when sent, whatever the sender changes later', async () => {
      const message = documentJob({ text: 'The original text.' });

      await queue.send(message);
      message.text = 'Changed after sending.';

      expect(await delivered(1)).toEqual([{ ...message, text: 'The original text.' }]);
    });

    it('leaves out optional fields that were given as undefined', async () => {
      const message = documentJob({ instructions: undefined });

      await queue.send(message);

      const [received] = await delivered(1);
      expect(Object.keys(received as object).sort()).toEqual(['jobId', 'text', 'type', 'userId']);
    });
  });
}
