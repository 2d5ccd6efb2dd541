import { describe, expect, it } from 'vitest';
import { chunkText } from '../../../../shared/domain/chunk-text.js';
import { ModelError } from '../../../../shared/domain/errors.js';
import type { ModelRequest } from '../../../../shared/ports/model.js';
import { type ModelScript, ScriptedModel } from '../../../fakes/scripted-model.js';
import {
  ConcurrencyCountingModel,
  createWorkerWorld,
  promptOf,
  sections,
  USER_ID,
  WORKER_LIMITS,
} from './support.js';

const COMBINE = 'these summaries of the parts of one document into one summary';

/** Part k's summary names the section it read; the combining call answers "Final summary." */
function summaryOfSections(request: ModelRequest): ModelScript {
  const prompt = promptOf(request);
  if (prompt.includes(COMBINE)) return { kind: 'answer', chunks: ['Final summary.'] };
  const read = [...prompt.matchAll(/Section (\d+):/g)].map((m) => m[1]).join(',');
  return { kind: 'answer', chunks: [`Summary of section ${read}.`] };
}

const document = (text: string, fields: { instructions?: string; model?: string } = {}) => ({
  type: 'summarize.document' as const,
  userId: USER_ID,
  text,
  ...fields,
});

const partCalls = (model: ScriptedModel) =>
  model.requests.map(promptOf).filter((p) => p.includes('of a longer document'));
const combineCalls = (model: ScriptedModel) =>
  model.requests.map(promptOf).filter((p) => p.includes(COMBINE));

describe('createDocumentSummarizer', () => {
  it('summarizes a short document in one call with the default model and limits', async () => {
    const model = new ScriptedModel([{ kind: 'answer', chunks: ['A memo about Q3.'] }]);
    const { summarizeDocument, newRun } = createWorkerWorld({ model });

    const summary = await summarizeDocument(document('A short memo about Q3.'), newRun());

    expect(summary).toBe('A memo about Q3.');
    expect(model.requests).toHaveLength(1);
    const [sent] = model.requests;
    expect(sent).toMatchObject({
      model: WORKER_LIMITS.defaultModel,
      maxTokens: WORKER_LIMITS.summaryMaxTokens,
      timeoutMs: WORKER_LIMITS.modelTimeoutMs,
      // The worker retries itself, within its deadline: the SDK does not.
      maxRetries: 0,
    });
    expect(sent?.system[0]?.text).toMatch(/summarize documents faithfully/);
    expect(promptOf(sent!)).toBe(
      'Summarize this document.\n\n<document>\nA short memo about Q3.\n</document>',
    );
  });

  it('summarizes a document of exactly one part in one call', async () => {
    const text = 'x'.repeat(WORKER_LIMITS.documentChunkTokens * 4);
    const model = new ScriptedModel([{ kind: 'answer', chunks: ['Xs.'] }]);
    const { summarizeDocument, newRun } = createWorkerWorld({ model });

    await summarizeDocument(document(text), newRun());

    expect(model.requests).toHaveLength(1);
    expect(promptOf(model.requests[0]!)).toContain('Summarize this document.');
  });

  it('summarizes each part of a long document, then combines the summaries in document order', async () => {
    const model = new ScriptedModel(summaryOfSections);
    const { summarizeDocument, newRun } = createWorkerWorld({ model });
    const text = sections(5);

    const summary = await summarizeDocument(document(text), newRun());

    expect(summary).toBe('Final summary.');
    expect(partCalls(model)).toHaveLength(5);
    expect(partCalls(model)[2]).toContain('Summarize part 3 of 5 of a longer document.');
    expect(partCalls(model)[2]).toContain('Section 2:');
    expect(model.requests).toHaveLength(6);
    expect(promptOf(model.requests.at(-1)!)).toContain(
      `Summarize ${COMBINE}.\n\n<document>\n${[0, 1, 2, 3, 4].map((k) => `Summary of section ${k}.`).join('\n\n')}\n</document>`,
    );
  });

  it('never has more parts in flight than the concurrency limit, and uses all of it', async () => {
    const model = new ConcurrencyCountingModel(new ScriptedModel(summaryOfSections));
    const { summarizeDocument, newRun } = createWorkerWorld({
      model,
      limits: { summaryConcurrency: 3 },
    });

    await summarizeDocument(document(sections(8)), newRun());

    expect(partCalls(model.inner).filter((p) => p.includes(' of 8 '))).toHaveLength(8);
    expect(model.maxInFlight).toBe(3);
  });

  it('sends the parts one at a time with a concurrency of 1', async () => {
    const model = new ConcurrencyCountingModel(new ScriptedModel(summaryOfSections));
    const { summarizeDocument, newRun } = createWorkerWorld({
      model,
      limits: { summaryConcurrency: 1 },
    });

    await summarizeDocument(document(sections(4)), newRun());

    expect(partCalls(model.inner)).toHaveLength(4);
    expect(model.maxInFlight).toBe(1);
  });

  it('keeps the summaries in document order when later parts finish first', async () => {
    // Part k takes (6 - k) ms: the last part answers first.
    const model = new ConcurrencyCountingModel(new ScriptedModel(summaryOfSections), (request) => {
      const section = /Section (\d+):/.exec(promptOf(request))?.[1];
      return section === undefined ? 0 : 6 - Number(section);
    });
    const { summarizeDocument, newRun } = createWorkerWorld({
      model,
      limits: { summaryConcurrency: 6 },
    });

    await summarizeDocument(document(sections(6)), newRun());

    expect(combineCalls(model.inner)[0]).toContain(
      [0, 1, 2, 3, 4, 5].map((k) => `Summary of section ${k}.`).join('\n\n'),
    );
  });

  it('passes the instructions and the requested model to every call', async () => {
    const model = new ScriptedModel(summaryOfSections);
    const { summarizeDocument, newRun } = createWorkerWorld({ model });

    await summarizeDocument(
      document(sections(3), { instructions: 'Focus on risks.', model: 'claude-sonnet-4-5' }),
      newRun(),
    );

    expect(model.requests).toHaveLength(4);
    for (const request of model.requests) {
      expect(request.model).toBe('claude-sonnet-4-5');
      expect(promptOf(request)).toContain('\n\nInstructions: Focus on risks.\n\n<document>');
    }
  });

  it('adds no instructions line when the message has none', async () => {
    const model = new ScriptedModel(summaryOfSections);
    const { summarizeDocument, newRun } = createWorkerWorld({ model });

    await summarizeDocument(document(sections(3)), newRun());

    expect(model.requests.map(promptOf).some((p) => p.includes('Instructions:'))).toBe(false);
  });

  it('summarizes the summaries again while they are still too long for one call', async () => {
    // First-round summaries are ~20 tokens: two fit in a 40-token part, three do not.
    const model = new ScriptedModel((request) => {
      const prompt = promptOf(request);
      if (prompt.includes(COMBINE)) return { kind: 'answer', chunks: ['Final summary.'] };
      const section = /Section (\d+):/.exec(prompt)?.[1];
      if (section !== undefined) {
        return {
          kind: 'answer',
          chunks: [`Summary of section ${section}. ${'Key point. '.repeat(5).trim()}`],
        };
      }
      const read = [...prompt.matchAll(/Summary of section (\d+)/g)].map((m) => m[1]);
      return { kind: 'answer', chunks: [`Digest of sections ${read.join(',')}.`] };
    });
    const { summarizeDocument, newRun } = createWorkerWorld({ model });

    const summary = await summarizeDocument(document(sections(6)), newRun());

    const totals = partCalls(model).map((p) => /part \d+ of (\d+) /.exec(p)?.[1]);
    expect(totals).toEqual(['6', '6', '6', '6', '6', '6', '3', '3', '3']);
    expect(combineCalls(model)).toHaveLength(1);
    expect(combineCalls(model)[0]).toContain(
      'Digest of sections 0,1.\n\nDigest of sections 2,3.\n\nDigest of sections 4,5.',
    );
    expect(model.requests.map(promptOf).at(-1)).toContain(COMBINE);
    expect(summary).toBe('Final summary.');
  });

  it("meters every call of a map-reduce on the job's meter, under the job's user", async () => {
    const model = new ScriptedModel(summaryOfSections);
    const world = createWorkerWorld({ model });
    const meter = world.newRun();

    await world.summarizeDocument(document(sections(4)), meter);

    expect(world.observer.modelCalls).toHaveLength(5);
    expect(world.ledger.settled.map((s) => s.reservation.userId)).toEqual(Array(5).fill(USER_ID));
    expect(meter.costNanoUsd).toBe(
      world.ledger.settled.reduce((sum, s) => sum + s.actual.costNanoUsd, 0),
    );
    expect(meter.usage.outputTokens).toBe(5);
  });

  it('fails with the model error when a part fails', async () => {
    const model = new ScriptedModel((request) =>
      promptOf(request).includes('Section 1:')
        ? { kind: 'fail-before', error: 'overloaded' }
        : summaryOfSections(request),
    );
    const { summarizeDocument, newRun } = createWorkerWorld({ model });

    await expect(summarizeDocument(document(sections(4)), newRun())).rejects.toBeInstanceOf(
      ModelError,
    );
    expect(combineCalls(model)).toHaveLength(0);
  });

  it('starts no further part once one has failed', async () => {
    // Part 0 fails at once; part 1 is still in flight then; parts 2-5 were never started.
    const inner = new ScriptedModel((request) =>
      promptOf(request).includes('Section 0:')
        ? { kind: 'fail-before', error: 'invalid_request' }
        : summaryOfSections(request),
    );
    const model = new ConcurrencyCountingModel(inner, (request) =>
      promptOf(request).includes('Section 0:') ? 0 : 5,
    );
    const { summarizeDocument, ledger, newRun } = createWorkerWorld({ model });

    await expect(summarizeDocument(document(sections(6)), newRun())).rejects.toMatchObject({
      kind: 'invalid_request',
    });
    await new Promise((resolve) => setTimeout(resolve, 50));

    expect(chunkText(sections(6), WORKER_LIMITS.documentChunkTokens)).toHaveLength(6);
    expect(inner.requests).toHaveLength(2);
    expect(ledger.settled).toHaveLength(1);
  });

  it('fails for good, after one round, when the part summaries are as long as the parts', async () => {
    const model = new ScriptedModel((request) =>
      promptOf(request).includes(COMBINE)
        ? { kind: 'answer', chunks: ['Final summary.'] }
        : { kind: 'answer', chunks: [`A summary as long as its part: ${'word '.repeat(40)}`] },
    );
    const { summarizeDocument, newRun } = createWorkerWorld({ model });

    await expect(summarizeDocument(document(sections(4)), newRun())).rejects.toMatchObject({
      name: 'PermanentJobError',
      message: expect.stringMatching(/raise documentChunkTokens or lower summaryMaxTokens/),
    });
    expect(model.requests).toHaveLength(4);
  });

  it.each([
    [
      'there is (priced) outside the allow-list',
      'claude-opus-4-6',
      'invalid_request_error',
      'is not allowed',
    ],
    [
      'there is not (neither allowed nor priced)',
      'claude-nope-9',
      'not_found_error',
      'does not exist here',
    ],
  ])(
    'refuses a model %s before any call, its message at fault (dead-lettered)',
    async (_, named, type, said) => {
      const { summarizeDocument, model, newRun } = createWorkerWorld({ model: [] });

      await expect(
        summarizeDocument(document('Short.', { model: named }), newRun()),
      ).rejects.toMatchObject({
        name: 'PermanentJobError',
        type,
        deadLetter: true,
        message: expect.stringContaining(`model "${named}" ${said}; use one of: `),
      });
      expect((model as ScriptedModel).requests).toHaveLength(0);
    },
  );

  it("fails for good a job whose named model the API does not know, its producer's to change: not dead-lettered", async () => {
    const model = new ScriptedModel([{ kind: 'fail-before', error: 'model_unavailable' }]);
    const { summarizeDocument, newRun } = createWorkerWorld({ model });

    await expect(
      summarizeDocument(document('Short.', { model: 'claude-sonnet-4-5' }), newRun()),
    ).rejects.toMatchObject({
      name: 'PermanentJobError',
      type: 'not_found_error',
      deadLetter: false,
    });
    expect(model.requests).toHaveLength(1);
  });

  it("dead-letters a job the deployment's default model cannot run (the API does not know it), saying it is the operator's", async () => {
    const model = new ScriptedModel([{ kind: 'fail-before', error: 'model_unavailable' }]);
    const { summarizeDocument, newRun } = createWorkerWorld({ model });

    await expect(summarizeDocument(document('Short.'), newRun())).rejects.toMatchObject({
      name: 'PermanentJobError',
      type: 'not_found_error',
      deadLetter: true,
      message: `the deployment's default model "${WORKER_LIMITS.defaultModel}" is not available: the Anthropic API does not know it (retired, or never one); an operator must change defaultModel, then redrive the job`,
    });
    expect(model.requests).toHaveLength(1);
  });
});
