import { describe, expect, it } from 'vitest';
import type { BatchRequest, BatchState, ModelBatches } from '../../shared/ports/model-batches.js';

export interface ModelBatchesSubject {
  batches: ModelBatches;
  /** A request the provider answers with an overloaded error inside the batch. */
  overloaded(request: BatchRequest): BatchRequest;
}

const request = (customId: string, text: string): BatchRequest => ({
  customId,
  request: {
    model: 'claude-haiku-4-5',
    system: [{ text: 'You summarize documents.' }],
    messages: [{ role: 'user', blocks: [{ text }] }],
    maxTokens: 64,
  },
});

/** Checks until the batch has ended (the subject's batches end within a few checks). */
async function ended(batches: ModelBatches, batchId: string) {
  for (let i = 0; i < 50; i++) {
    const state: BatchState = await batches.check(batchId);
    if (state.state === 'ended') return state.results;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`batch ${batchId} never ended`);
}

/** The ModelBatches port's behaviour, for the scripted fake and the Anthropic adapter. */
export function modelBatchesContract(subject: () => Promise<ModelBatchesSubject>) {
  describe('a batch', () => {
    it('is in progress, then ends with an answer for every request, by custom id', async () => {
      const { batches } = await subject();

      const { batchId } = await batches.submit([
        request('part-1', 'The first part of a long document.'),
        request('part-2', 'The second part of a long document.'),
      ]);

      expect(await batches.check(batchId)).toEqual({ state: 'in_progress' });
      const results = await ended(batches, batchId);
      expect(results.map((r) => [r.customId, r.kind])).toEqual([
        ['part-1', 'succeeded'],
        ['part-2', 'succeeded'],
      ]);
      const first = results[0]!;
      if (first.kind !== 'succeeded') throw new Error('not succeeded');
      expect(first.answer.text.length).toBeGreaterThan(0);
      expect(first.answer.usage.inputTokens).toBeGreaterThan(0);
      expect(first.answer.usage.outputTokens).toBeGreaterThan(0);
      expect(first.answer.stopReason).toBe('end_turn');
    });

    it('reports a request the provider could not answer as errored, with its kind', async () => {
      const { batches, overloaded } = await subject();

      const { batchId } = await batches.submit([
        request('fine', 'A short memo.'),
        overloaded(request('busy', 'Another memo.')),
      ]);

      const results = await ended(batches, batchId);
      expect(results[0]?.kind).toBe('succeeded');
      expect(results[1]).toMatchObject({
        customId: 'busy',
        kind: 'errored',
        error: { kind: 'overloaded' },
      });
    });

    it('ends soon once cancelled, a request not processed by then reported as such', async () => {
      const { batches } = await subject();
      const { batchId } = await batches.submit([request('only', 'A memo to cancel.')]);

      await batches.cancel(batchId);

      const results = await ended(batches, batchId);
      expect(results).toEqual([{ customId: 'only', kind: 'not_processed' }]);
    });

    it('refuses a batch whose custom ids repeat, with a ModelError', async () => {
      const { batches } = await subject();

      await expect(
        batches.submit([request('same', 'a'), request('same', 'b')]),
      ).rejects.toMatchObject({ name: 'ModelError', kind: 'invalid_request' });
    });
  });
}
