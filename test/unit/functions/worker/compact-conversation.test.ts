import { describe, expect, it } from 'vitest';
import { createConversationCompactor } from '../../../../functions/worker/compact-conversation.js';
import { classifyFailure } from '../../../../functions/worker/job-errors.js';
import { NotFoundError } from '../../../../shared/domain/errors.js';
import { estimateTokens } from '../../../../shared/domain/tokens.js';
import type { InMemoryConversationStore } from '../../../fakes/in-memory-conversation-store.js';
import { ScriptedModel } from '../../../fakes/scripted-model.js';
import {
  answeredTurns,
  CONVERSATION_ID,
  createWorkerWorld,
  promptOf,
  seedConversation,
  USER_ID,
} from './support.js';

const compaction = {
  type: 'summarize.conversation' as const,
  userId: USER_ID,
  conversationId: CONVERSATION_ID,
};

/** A world whose summarizer takes any transcript in one call, answering `summary`. */
function compactionWorld(summary = 'The user asked about the topic; the assistant helped.') {
  const model = new ScriptedModel(() => ({ kind: 'answer', chunks: [summary] }));
  return { ...createWorkerWorld({ model, limits: { documentChunkTokens: 100_000 } }), model };
}

/** The conversation as a compaction would read it now. */
async function unsummarized(conversations: InMemoryConversationStore) {
  const conversation = (await conversations.getConversation(USER_ID, CONVERSATION_ID))!;
  return {
    createdAt: conversation.createdAt,
    summaryThroughSeq: conversation.summary?.throughSeq ?? 0,
    supersededRanges: conversation.superseded ?? [],
  };
}

const tokensOf = (turns: Array<{ user: string; assistant?: string }>) =>
  turns.reduce(
    (sum, t) => sum + estimateTokens(t.user) + (t.assistant ? estimateTokens(t.assistant) : 0),
    0,
  );

/** A summary of the first two turns (messages 1 to 4): "The user prefers tea." */
async function summarizeFirstTwoTurns(
  conversations: InMemoryConversationStore,
  turns: Array<{ user: string; assistant?: string }>,
) {
  await conversations.saveSummary(
    USER_ID,
    CONVERSATION_ID,
    { text: 'The user prefers tea.', throughSeq: 4, tokensCompacted: tokensOf(turns.slice(0, 2)) },
    await unsummarized(conversations),
  );
}

describe('createConversationCompactor', () => {
  it('saves nothing of a summary Claude refused to write, and fails without paging anyone', async () => {
    const model = new ScriptedModel(() => ({
      kind: 'answer',
      chunks: ['I can'],
      stopReason: 'refusal',
    }));
    const world = createWorkerWorld({ model, limits: { documentChunkTokens: 100_000 } });
    await seedConversation(world.conversations, answeredTurns(5));
    const before = await world.conversations.getConversation(USER_ID, CONVERSATION_ID);

    const compacting = world.compactConversation(compaction, world.newRun());

    const failure = await compacting.catch((error: unknown) => classifyFailure(error));
    expect(failure).toMatchObject({ type: 'refusal', retryable: false, deadLetter: false });
    expect(await world.conversations.getConversation(USER_ID, CONVERSATION_ID)).toEqual(before);
  });

  it('saves no summary Claude left empty, which would drop what it folds from every later prompt', async () => {
    for (const empty of ['', ' \n ']) {
      const world = compactionWorld(empty);
      await seedConversation(world.conversations, answeredTurns(5));
      const before = await world.conversations.getConversation(USER_ID, CONVERSATION_ID);

      const failure = await world.compactConversation(compaction, world.newRun()).then(
        () => undefined,
        (error: unknown) => classifyFailure(error),
      );

      expect(failure).toMatchObject({ retryable: false, deadLetter: false });
      expect(await world.conversations.getConversation(USER_ID, CONVERSATION_ID)).toEqual(before);
    }
  });

  it('cuts its call under way once its conversation is deleted, paid for what it generated, and saves nothing', async () => {
    const model = new ScriptedModel(() => ({ kind: 'stall', chunks: ['The user asked'] }));
    const world = createWorkerWorld({ model, limits: { documentChunkTokens: 100_000 } });
    await seedConversation(world.conversations, answeredTurns(5));
    const compact = createConversationCompactor({
      conversations: world.conversations,
      summarize: world.summarizeDocument,
      deletePollMs: 10,
    });
    const run = world.newRun();

    const compacting = compact(compaction, run).catch((error: unknown) => error);
    await expect.poll(() => model.requests.length).toBe(1);
    await world.conversations.deleteConversation(USER_ID, CONVERSATION_ID);

    const error = await compacting;
    expect(error).toBeInstanceOf(NotFoundError);
    expect(classifyFailure(error)).toMatchObject({ type: 'not_found_error', deadLetter: false });
    expect(model.requests).toHaveLength(1);
    expect(run.costNanoUsd).toBeGreaterThan(0);
  });

  it('folds all but the newest 4 messages into a summary saved through the last folded message', async () => {
    const world = compactionWorld('Summary of turns 0 to 2.');
    await seedConversation(world.conversations, answeredTurns(5));

    const summary = await world.compactConversation(compaction, world.newRun());

    expect(summary).toBe('Summary of turns 0 to 2.');
    const conversation = await world.conversations.getConversation(USER_ID, CONVERSATION_ID);
    expect(conversation?.summary).toEqual({ text: 'Summary of turns 0 to 2.', throughSeq: 6 });
  });

  it('sends the folded messages as a transcript, with the compaction instructions', async () => {
    const world = compactionWorld();
    const turns = answeredTurns(5);
    await seedConversation(world.conversations, turns);

    await world.compactConversation(compaction, world.newRun());

    expect(world.model.requests).toHaveLength(1);
    const prompt = promptOf(world.model.requests[0]!);
    expect(prompt).toContain(
      `<document>\nUser: ${turns[0]?.user}\n\nAssistant: ${turns[0]?.assistant}\n\nUser: ${turns[1]?.user}`,
    );
    expect(prompt).toContain(`Assistant: ${turns[2]?.assistant}\n</document>`);
    expect(prompt).not.toContain('Question 3:');
    expect(prompt).toContain(
      'Instructions: This is a conversation between a user and an assistant.',
    );
    expect(prompt).not.toContain('Summary so far');
  });

  it('takes the folded messages off the uncompacted token count', async () => {
    const world = compactionWorld();
    const turns = answeredTurns(5);
    await seedConversation(world.conversations, turns);
    const before = await world.conversations.getConversation(USER_ID, CONVERSATION_ID);

    await world.compactConversation(compaction, world.newRun());

    const after = await world.conversations.getConversation(USER_ID, CONVERSATION_ID);
    expect(before?.uncompactedTokens).toBe(tokensOf(turns));
    expect(after?.uncompactedTokens).toBe(tokensOf(turns.slice(3)));
  });

  it('leaves out what an edit replaced, and takes it off the uncompacted count too', async () => {
    const world = compactionWorld();
    const edited = { user: 'My password is hunter2', assistant: 'Noted.' };
    const turns = [edited, { ...answeredTurns(1)[0]!, supersedes: 1 }, ...answeredTurns(4, 1)];
    await seedConversation(world.conversations, turns);

    await world.compactConversation(compaction, world.newRun());

    const prompt = promptOf(world.model.requests[0]!);
    expect(prompt).toContain(`User: ${turns[1]?.user}`);
    expect(prompt).not.toContain('hunter2');
    expect(prompt).not.toContain('Noted.');
    const after = await world.conversations.getConversation(USER_ID, CONVERSATION_ID);
    expect(after?.summary?.throughSeq).toBe(8);
    expect(after?.uncompactedTokens).toBe(tokensOf(turns.slice(4)));
  });

  it('includes the previous summary and folds only the messages after it', async () => {
    const world = compactionWorld('The user prefers tea; later turns covered the topic.');
    const turns = answeredTurns(5);
    await seedConversation(world.conversations, turns);
    await summarizeFirstTwoTurns(world.conversations, turns);

    await world.compactConversation(compaction, world.newRun());

    const prompt = promptOf(world.model.requests[0]!);
    expect(prompt).toContain(
      `<document>\nSummary so far:\nThe user prefers tea.\n\nUser: ${turns[2]?.user}\n\nAssistant: ${turns[2]?.assistant}\n</document>`,
    );
    expect(prompt).not.toContain('Question 1:');
    const conversation = await world.conversations.getConversation(USER_ID, CONVERSATION_ID);
    expect(conversation?.summary).toEqual({
      text: 'The user prefers tea; later turns covered the topic.',
      throughSeq: 6,
    });
    expect(conversation?.uncompactedTokens).toBe(tokensOf(turns.slice(3)));
  });

  it('keeps more than 4 messages rather than start the kept ones with an answer', async () => {
    const world = compactionWorld();
    // u1 a2 u3 a4 u5 a6 u7 a8 u9: the newest 4 would start at a6, so u5 is kept too.
    const turns = [...answeredTurns(4), { user: 'Question 4: still streaming' }];
    await seedConversation(world.conversations, turns);

    await world.compactConversation(compaction, world.newRun());

    const conversation = await world.conversations.getConversation(USER_ID, CONVERSATION_ID);
    expect(conversation?.summary?.throughSeq).toBe(4);
    expect(promptOf(world.model.requests[0]!)).not.toContain('Question 2:');
  });

  it('returns the existing summary without a model call when nothing is old enough to fold', async () => {
    const world = compactionWorld();
    const turns = answeredTurns(4);
    await seedConversation(world.conversations, turns);
    await summarizeFirstTwoTurns(world.conversations, turns);

    const summary = await world.compactConversation(compaction, world.newRun());

    expect(summary).toBe('The user prefers tea.');
    expect(world.model.requests).toHaveLength(0);
    const conversation = await world.conversations.getConversation(USER_ID, CONVERSATION_ID);
    expect(conversation?.summary).toEqual({ text: 'The user prefers tea.', throughSeq: 4 });
  });

  it('returns an empty summary without a model call for a short conversation never summarized', async () => {
    const world = compactionWorld();
    // u1 a2 u3 a4 u5: keeping the newest 4 would start with a2, so everything is kept.
    await seedConversation(world.conversations, [...answeredTurns(2), { user: 'Question 2:' }]);

    const summary = await world.compactConversation(compaction, world.newRun());

    expect(summary).toBe('');
    expect(world.model.requests).toHaveLength(0);
    const conversation = await world.conversations.getConversation(USER_ID, CONVERSATION_ID);
    expect(conversation?.summary).toBeUndefined();
  });

  it('fails for good with not_found_error for a conversation that does not exist', async () => {
    const world = compactionWorld();

    const compacting = world.compactConversation(compaction, world.newRun());

    await expect(compacting).rejects.toBeInstanceOf(NotFoundError);
    await expect(compacting).rejects.toMatchObject({
      type: 'not_found_error',
      message: expect.stringContaining(CONVERSATION_ID),
    });
    expect(world.model.requests).toHaveLength(0);
  });

  it('fails with not_found_error, keeping no summary, for a conversation deleted while it was summarized', async () => {
    let deleteConversation = () => {};
    const model = new ScriptedModel(() => {
      deleteConversation();
      return { kind: 'answer', chunks: ['A summary of what was deleted.'] };
    });
    const world = createWorkerWorld({ model, limits: { documentChunkTokens: 100_000 } });
    await seedConversation(world.conversations, answeredTurns(5));
    deleteConversation = () =>
      void world.conversations.deleteConversation(USER_ID, CONVERSATION_ID);

    const compacting = world.compactConversation(compaction, world.newRun());

    await expect(compacting).rejects.toBeInstanceOf(NotFoundError);
    expect(model.requests).toHaveLength(1);
  });

  it("treats another user's conversation as one that does not exist", async () => {
    const world = compactionWorld();
    await seedConversation(world.conversations, answeredTurns(5), { userId: 'someone-else' });

    await expect(world.compactConversation(compaction, world.newRun())).rejects.toMatchObject({
      name: 'NotFoundError',
      type: 'not_found_error',
    });
    expect(world.model.requests).toHaveLength(0);
  });

  it('reads again when another summary was saved while it summarized, counting each message once', async () => {
    let interfere = async () => {};
    const model = new ScriptedModel(() => ({ kind: 'answer', chunks: ['A summary.'] }));
    /** The first call lets another compaction save its summary before it answers. */
    const once = async () => {
      const act = interfere;
      interfere = async () => {};
      await act();
    };
    const world = createWorkerWorld({
      model: {
        async openStream(request) {
          await once();
          return model.openStream(request);
        },
        async complete(request) {
          await once();
          return model.complete(request);
        },
      },
      limits: { documentChunkTokens: 100_000 },
    });
    const turns = answeredTurns(5);
    await seedConversation(world.conversations, turns);
    interfere = async () => {
      await world.conversations.saveSummary(
        USER_ID,
        CONVERSATION_ID,
        { text: 'Turn 0.', throughSeq: 2, tokensCompacted: tokensOf(turns.slice(0, 1)) },
        await unsummarized(world.conversations),
      );
    };

    await world.compactConversation(compaction, world.newRun());

    expect(model.requests).toHaveLength(2);
    expect(promptOf(model.requests[1]!)).toContain('Summary so far:\nTurn 0.');
    const after = await world.conversations.getConversation(USER_ID, CONVERSATION_ID);
    expect(after?.summary).toEqual({ text: 'A summary.', throughSeq: 6 });
    expect(after?.uncompactedTokens).toBe(tokensOf(turns.slice(3)));
  });

  it('gives up, to be retried, when the conversation keeps changing under it', async () => {
    const world = compactionWorld();
    await seedConversation(world.conversations, answeredTurns(5));
    const { conversations } = world;
    const saveSummary = conversations.saveSummary.bind(conversations);
    conversations.saveSummary = async () => 'stale';

    const compacting = world.compactConversation(compaction, world.newRun());

    await expect(compacting).rejects.toThrow(/kept changing/);
    await expect(compacting).rejects.not.toBeInstanceOf(NotFoundError);
    expect(world.model.requests).toHaveLength(3);
    conversations.saveSummary = saveSummary;
  });

  it('does nothing, without a model call, when a compaction saved since this one was asked for', async () => {
    const world = compactionWorld();
    const turns = answeredTurns(6);
    await seedConversation(world.conversations, turns);
    await summarizeFirstTwoTurns(world.conversations, turns);

    const summary = await world.compactConversation(
      { ...compaction, summaryThroughSeq: 0 },
      world.newRun(),
    );

    expect(summary).toBe('The user prefers tea.');
    expect(world.model.requests).toHaveLength(0);
    const conversation = await world.conversations.getConversation(USER_ID, CONVERSATION_ID);
    expect(conversation?.summary).toEqual({ text: 'The user prefers tea.', throughSeq: 4 });
  });

  it('extends the summary it was asked to extend', async () => {
    const world = compactionWorld('Summary through turn 3.');
    const turns = answeredTurns(6);
    await seedConversation(world.conversations, turns);
    await summarizeFirstTwoTurns(world.conversations, turns);

    await world.compactConversation({ ...compaction, summaryThroughSeq: 4 }, world.newRun());

    expect(world.model.requests).toHaveLength(1);
    const conversation = await world.conversations.getConversation(USER_ID, CONVERSATION_ID);
    expect(conversation?.summary).toEqual({ text: 'Summary through turn 3.', throughSeq: 8 });
  });

  it("writes the summary with the conversation's model", async () => {
    const world = compactionWorld();
    await seedConversation(world.conversations, answeredTurns(5));

    await world.compactConversation({ ...compaction, model: 'claude-haiku-4-5' }, world.newRun());

    expect(world.model.requests.map((request) => request.model)).toEqual(['claude-haiku-4-5']);
  });

  it("meters the summarizing call on the job's meter", async () => {
    const world = compactionWorld();
    await seedConversation(world.conversations, answeredTurns(5));
    const meter = world.newRun();

    await world.compactConversation(compaction, meter);

    expect(meter.costNanoUsd).toBe(world.ledger.settled[0]?.actual.costNanoUsd);
    expect(meter.costNanoUsd).toBeGreaterThan(0);
  });
});
