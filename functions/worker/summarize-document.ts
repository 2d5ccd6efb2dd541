import { chunkText } from '../../shared/domain/chunk-text.js';
import type { SummarizeDocumentMessage } from '../../shared/jobs/job-message.js';
import { PermanentJobError } from './job-errors.js';
import type { JobMeter, MeteredComplete } from './metered-model.js';

const SYSTEM_PROMPT =
  'You summarize documents faithfully and concisely. Keep names, figures and decisions; never invent facts.';

export interface SummaryLimits {
  defaultModel: string;
  /** Every model a job may name: the same allow-list as a chat request's. */
  models: ReadonlySet<string>;
  summaryMaxTokens: number;
  documentChunkTokens: number;
  summaryConcurrency: number;
  modelTimeoutMs: number;
  modelMaxRetries: number;
}

export type SummarizeDocument = (
  message: Omit<SummarizeDocumentMessage, 'jobId'>,
  meter: JobMeter,
) => Promise<string>;

/**
 * Summarizes a document; one longer than a call can take is split, its parts
 * summarized with bounded concurrency (map), and the summaries combined (reduce).
 */
export function createDocumentSummarizer(deps: {
  complete: MeteredComplete;
  limits: SummaryLimits;
}): SummarizeDocument {
  const { complete, limits } = deps;
  return async (message, meter) => {
    const model = message.model ?? limits.defaultModel;
    if (!limits.models.has(model)) {
      throw new PermanentJobError(
        'invalid_request_error',
        `model ${JSON.stringify(model)} is not allowed; use one of: ${[...limits.models].join(', ')}`,
      );
    }
    const instructions = message.instructions ? `\n\nInstructions: ${message.instructions}` : '';
    const summarize = async (text: string, what: string) => {
      const prompt = `Summarize ${what}.${instructions}\n\n<document>\n${text}\n</document>`;
      const answer = await complete(
        message.userId,
        {
          model,
          system: [{ text: SYSTEM_PROMPT }],
          messages: [{ role: 'user', blocks: [{ text: prompt }] }],
          maxTokens: limits.summaryMaxTokens,
          timeoutMs: limits.modelTimeoutMs,
          maxRetries: limits.modelMaxRetries,
        },
        meter,
      );
      return answer.text;
    };

    let parts = chunkText(message.text, limits.documentChunkTokens);
    if (parts.length === 1) return summarize(message.text, 'this document');
    while (parts.length > 1) {
      const total = parts.length;
      const summaries = await mapWithConcurrency(parts, limits.summaryConcurrency, (part, i) =>
        summarize(part, `part ${i + 1} of ${total} of a longer document`),
      );
      parts = chunkText(summaries.join('\n\n'), limits.documentChunkTokens);
      // Summaries as long as the parts they summarize would loop (and spend) forever.
      if (parts.length >= total) {
        throw new PermanentJobError(
          'invalid_request_error',
          'the part summaries are no shorter than the parts: raise documentChunkTokens or lower summaryMaxTokens',
        );
      }
    }
    return summarize(
      parts[0] ?? '',
      'these summaries of the parts of one document into one summary',
    );
  };
}

async function mapWithConcurrency<T, R>(
  items: readonly T[],
  concurrency: number,
  work: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  let failed = false;
  const worker = async () => {
    // Once a part has failed the job has failed: no further part is started (and spent on).
    while (!failed && next < items.length) {
      const index = next++;
      try {
        results[index] = await work(items[index] as T, index);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return results;
}
