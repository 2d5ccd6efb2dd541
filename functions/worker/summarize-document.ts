import { chunkText } from '../../shared/domain/chunk-text.js';
import type { SummarizeDocumentMessage } from '../../shared/jobs/job-message.js';
import type { WorkerDependencies } from './dependencies.js';
import { type JobMeter, meteredComplete } from './metered-model.js';

const SYSTEM_PROMPT =
  'You summarize documents faithfully and concisely. Keep names, figures and decisions; never invent facts.';

/**
 * Summarizes a document; one longer than a call can take is split, its parts
 * summarized with bounded concurrency (map), and the summaries combined (reduce).
 */
export async function summarizeDocument(
  deps: WorkerDependencies,
  message: SummarizeDocumentMessage,
  meter: JobMeter,
): Promise<string> {
  const model = message.model ?? deps.settings.DEFAULT_MODEL;
  const instructions = message.instructions ? `\n\nInstructions: ${message.instructions}` : '';
  const summarize = async (text: string, what: string) => {
    const answer = await meteredComplete(
      deps,
      message.userId,
      {
        model,
        system: [{ text: SYSTEM_PROMPT }],
        messages: [
          {
            role: 'user',
            blocks: [
              { text: `Summarize ${what}.${instructions}\n\n<document>\n${text}\n</document>` },
            ],
          },
        ],
        maxTokens: deps.settings.SUMMARY_MAX_TOKENS,
        timeoutMs: deps.settings.MODEL_TIMEOUT_MS,
        maxRetries: deps.settings.MODEL_MAX_RETRIES,
      },
      meter,
    );
    return answer.text;
  };

  let parts = chunkText(message.text, deps.settings.DOCUMENT_CHUNK_TOKENS);
  if (parts.length === 1) return summarize(message.text, 'this document');
  while (parts.length > 1) {
    const total = parts.length;
    const summaries = await mapWithConcurrency(
      parts,
      deps.settings.SUMMARY_CONCURRENCY,
      (part, i) => summarize(part, `part ${i + 1} of ${total} of a longer document`),
    );
    parts = chunkText(summaries.join('\n\n'), deps.settings.DOCUMENT_CHUNK_TOKENS);
  }
  return summarize(parts[0] ?? '', 'these summaries of the parts of one document into one summary');
}

async function mapWithConcurrency<T, R>(
  items: readonly T[],
  concurrency: number,
  work: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index] as T, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return results;
}
