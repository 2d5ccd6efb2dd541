import {
  COMPACTION_KEEPS_RECENT_MESSAGES,
  isSuperseded,
  type StoredMessage,
} from '../../shared/domain/conversation.js';
import { NotFoundError } from '../../shared/domain/errors.js';
import { estimateTokens } from '../../shared/domain/tokens.js';
import type { SummarizeConversationMessage } from '../../shared/jobs/job-message.js';
import type { ConversationStore } from '../../shared/ports/conversation-store.js';
import { PermanentJobError } from './job-errors.js';
import type { JobRun } from './job-run.js';
import type { SummarizeDocument } from './summarize-document.js';
import { watch } from './watch.js';

const INSTRUCTIONS =
  "This is a conversation between a user and an assistant. Write a summary the assistant can rely on to continue it: facts, decisions, open questions and the user's preferences.";

export type CompactConversation = (
  message: Omit<SummarizeConversationMessage, 'jobId'>,
  run: JobRun,
) => Promise<string>;

/** A conversation changed under its compaction (an edit, another compaction): read again. */
const ATTEMPTS = 3;
/** How often a compaction under way looks whether its conversation was deleted. */
const DELETE_POLL_MS = 1_000;

/**
 * Folds a conversation's older messages into its summary. Later turns send the
 * summary plus the recent messages; the full history stays readable.
 */
export function createConversationCompactor(deps: {
  conversations: Pick<
    ConversationStore,
    'getConversation' | 'conversationCreatedAt' | 'recentMessages' | 'saveSummary'
  >;
  summarize: SummarizeDocument;
  /** @default DELETE_POLL_MS */
  deletePollMs?: number;
}): CompactConversation {
  const { conversations, summarize, deletePollMs = DELETE_POLL_MS } = deps;
  return async (message, run) => {
    for (let attempt = 1; ; attempt++) {
      const outcome = await compactOnce(message, run);
      if (outcome.saved) return outcome.summary;
      if (attempt === ATTEMPTS) {
        throw new Error(`conversation ${message.conversationId} kept changing while compacted`);
      }
    }
  };

  async function compactOnce(
    {
      userId,
      conversationId,
      model,
      summaryThroughSeq,
    }: Omit<SummarizeConversationMessage, 'jobId'>,
    run: JobRun,
  ): Promise<{ saved: boolean; summary: string }> {
    const conversation = await conversations.getConversation(userId, conversationId);
    if (!conversation) {
      throw new NotFoundError(`conversation ${conversationId} does not exist`);
    }
    // Asked for while another compaction was pending, which has saved since: nothing is due.
    const overtaken =
      summaryThroughSeq !== undefined &&
      summaryThroughSeq !== (conversation.summary?.throughSeq ?? 0);
    if (overtaken) return { saved: true, summary: conversation.summary?.text ?? '' };
    const { items: uncompacted } = await conversations.recentMessages(userId, conversationId, {
      afterSeq: conversation.summary?.throughSeq ?? 0,
      maxTokens: Number.MAX_SAFE_INTEGER,
    });
    // What a regenerate or an edit replaced is left out of prompts, so of the summary too.
    const older = olderMessages(
      uncompacted.filter((m) => !isSuperseded(m.seq, conversation.superseded)),
    );
    if (older.length === 0) return { saved: true, summary: conversation.summary?.text ?? '' };
    const throughSeq = older.at(-1)!.seq;

    const transcript = older.map(
      (m) => `${m.role === 'user' ? 'User' : 'Assistant'}: ${m.content}`,
    );
    const previous = conversation.summary
      ? `Summary so far:\n${conversation.summary.text}\n\n`
      : '';
    // Deleted meanwhile, the conversation wants no summary: its calls stop, paid for what
    // they generated, rather than run on (and bill) to a summary that could not be saved.
    const deleted = watchForDelete(userId, conversationId, conversation.createdAt);
    let summary: string;
    try {
      summary = await summarize(
        {
          type: 'summarize.document',
          userId,
          text: `${previous}${transcript.join('\n\n')}`,
          instructions: INSTRUCTIONS,
          ...(model && { model }),
        },
        run,
        { signal: deleted.signal },
      );
    } catch (error) {
      if (deleted.signal.aborted) {
        throw new NotFoundError(`conversation ${conversationId} was deleted`, { cause: error });
      }
      throw error;
    } finally {
      await deleted.stop();
    }
    // What a refusal said is a fragment: saved, it would stand for all it was to summarize.
    if (run.ends.refused) {
      throw new PermanentJobError(
        'refusal',
        'Claude refused to summarize this conversation; its turns go on sending its history as it is',
        false,
      );
    }
    // Saved, an empty summary would stand for every message it folds, and turns send none
    // (an empty system block is refused): what they said would be gone from every prompt.
    if (!/\S/.test(summary)) {
      throw new PermanentJobError(
        'api_error',
        'Claude wrote an empty summary of this conversation; its turns go on sending its history as it is',
        false,
      );
    }
    // Replaced messages were counted as uncompacted when they were stored: they leave too.
    const compacted = uncompacted.filter((m) => m.seq <= throughSeq);
    const saved = await conversations.saveSummary(
      userId,
      conversationId,
      {
        text: summary,
        throughSeq,
        tokensCompacted: compacted.reduce((sum, m) => sum + estimateTokens(m.content), 0),
      },
      {
        createdAt: conversation.createdAt,
        summaryThroughSeq: conversation.summary?.throughSeq ?? 0,
        supersededRanges: conversation.superseded ?? [],
      },
    );
    // Deleted while it was summarized: nothing of it may outlive it, this summary included.
    if (saved === 'gone') throw new NotFoundError(`conversation ${conversationId} was deleted`);
    return { saved: saved === 'saved', summary };
  }

  /** Aborts its signal once the conversation is gone (or made again under its id). */
  function watchForDelete(userId: string, conversationId: string, createdAt: string) {
    return watch(
      async () => (await conversations.conversationCreatedAt(userId, conversationId)) !== createdAt,
      deletePollMs,
      new Error('conversation deleted'),
    );
  }
}

/** Everything but the recent messages, cut so the kept part starts with the user. */
function olderMessages(messages: StoredMessage[]): StoredMessage[] {
  let cut = Math.max(0, messages.length - COMPACTION_KEEPS_RECENT_MESSAGES);
  while (cut > 0 && messages[cut]?.role !== 'user') cut--;
  return messages.slice(0, cut);
}
