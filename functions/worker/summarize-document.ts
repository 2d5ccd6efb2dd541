import { chunkText } from '../../shared/domain/chunk-text.js';
import { AppError, ModelError, modelUnavailable } from '../../shared/domain/errors.js';
import { allowedModel } from '../../shared/domain/model-id.js';
import type { PriceTable } from '../../shared/domain/pricing/price-table.js';
import { quoted } from '../../shared/domain/quoted.js';
import type { SummarizeDocumentMessage } from '../../shared/jobs/job-message.js';
import { PermanentJobError } from './job-errors.js';
import { type JobRun, modelCall } from './job-run.js';

const SYSTEM_PROMPT =
  'You summarize documents faithfully and concisely. Keep names, figures and decisions; never invent facts.';

export interface SummaryLimits {
  defaultModel: string;
  /** Every model a job may name: the same allow-list as a chat request's. */
  models: ReadonlySet<string>;
  summaryMaxTokens: number;
  documentChunkTokens: number;
}

export type SummarizeDocument = (
  message: Omit<SummarizeDocumentMessage, 'jobId'>,
  run: JobRun,
  /** `signal` aborts every call, cut where it is, and makes no other. */
  options?: { signal?: AbortSignal },
) => Promise<string>;

/**
 * Summarizes a document; one longer than `documentChunkTokens` is split, its parts
 * summarized in one round of calls (map), and the summaries combined (reduce), in more
 * rounds if they are still too long. How a round's calls are made (now, or as a batch;
 * each answer checkpointed) is the run's.
 */
export function createDocumentSummarizer(deps: {
  limits: SummaryLimits;
  prices: Pick<PriceTable, 'has'>;
}): SummarizeDocument {
  const { limits } = deps;
  return async (message, run, { signal } = {}) => {
    const model = jobModel(message.model ?? limits.defaultModel);
    try {
      return await summarizeWith(model, message, run, signal);
    } catch (error) {
      throw failureOfUnavailableModel(error, model, message.model !== undefined);
    }
  };

  /**
   * The model as `POST /v1/jobs` would take it; one there is not or not allowed is the
   * message's fault on every delivery: dead-lettered, as an operator may allow it and redrive.
   */
  function jobModel(model: string): string {
    try {
      return allowedModel(model, limits.models, deps.prices);
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      throw new PermanentJobError(error.type, error.message, true, { cause: error });
    }
  }

  async function summarizeWith(
    model: string,
    message: Omit<SummarizeDocumentMessage, 'jobId'>,
    run: JobRun,
    signal: AbortSignal | undefined,
  ): Promise<string> {
    const instructions = message.instructions ? `\n\nInstructions: ${message.instructions}` : '';
    const call = (text: string, what: string) =>
      modelCall({
        model,
        system: [{ text: SYSTEM_PROMPT }],
        messages: [
          {
            role: 'user',
            blocks: [
              {
                // Half an emoji (a lone surrogate, which JSON.parse takes) would have the API
                // refuse the call as not valid JSON, and the job end dead-lettered: U+FFFD.
                text: `Summarize ${what}.${instructions}\n\n<document>\n${text}\n</document>`.toWellFormed(),
              },
            ],
          },
        ],
        maxTokens: limits.summaryMaxTokens,
      });
    const one = async (round: number, text: string, what: string) =>
      (await run.round({ round, calls: [call(text, what)], ...(signal && { signal }) }))[0] ?? '';

    let parts = chunkText(message.text, limits.documentChunkTokens);
    if (parts.length === 1) return one(1, message.text, 'this document');
    let round = 1;
    while (parts.length > 1) {
      const total = parts.length;
      const summaries = await run.round({
        round,
        calls: parts.map((part, i) => call(part, `part ${i + 1} of ${total} of a longer document`)),
        ...(signal && { signal }),
      });
      // A refused part fails the job (its caller says how): no further round is paid for.
      if (run.ends.refused) return '';
      parts = chunkText(summaries.join('\n\n'), limits.documentChunkTokens);
      round += 1;
      // Summaries as long as the parts they summarize would loop (and spend) forever.
      if (parts.length >= total) {
        throw new PermanentJobError(
          'invalid_request_error',
          'the part summaries are no shorter than the parts: raise documentChunkTokens or lower summaryMaxTokens',
        );
      }
    }
    return one(
      round,
      parts[0] ?? '',
      'these summaries of the parts of one document into one summary',
    );
  }
}

/**
 * A model the Anthropic API does not know (retired) fails every retry alike: the job ends at
 * once, for whoever chose it. One its message named is its producer's to change: the job
 * fails, told as such (its message, which no redrive could help, is not kept). The
 * deployment's default is an operator's: the job is dead-lettered (DeadLetters pages), and
 * runs once redriven after the default is changed.
 */
function failureOfUnavailableModel(error: unknown, model: string, named: boolean): unknown {
  if (!(error instanceof ModelError) || error.kind !== 'model_unavailable') return error;
  const quotedModel = quoted(model);
  if (named) {
    return new PermanentJobError(
      error.type,
      `${modelUnavailable(`the model ${quotedModel}`)}; ask with another model`,
      false,
      { cause: error },
    );
  }
  return new PermanentJobError(
    error.type,
    `${modelUnavailable(`the deployment's default model ${quotedModel}`)}; an operator must change defaultModel, then redrive the job`,
    true,
    { cause: error },
  );
}
