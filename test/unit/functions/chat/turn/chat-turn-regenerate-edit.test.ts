import { describe, expect, it } from 'vitest';
import { ConflictError, NotFoundError } from '../../../../../shared/domain/errors.js';
import { ScriptedModel } from '../../../../fakes/scripted-model.js';
import { chatFixture, streamedText } from './support.js';

const textOf = (blocks: ReadonlyArray<{ text: string }>) => blocks.map((b) => b.text).join('');

/** Answers 'answer 1', 'answer 2', … in order. */
const numbered = () => {
  let n = 0;
  return new ScriptedModel(() => ({ kind: 'answer', chunks: [`answer ${++n}`] }));
};

describe('regenerating and editing', () => {
  it('regenerates the last answer: the same question asked again, the old answer kept but superseded', async () => {
    const model = numbered();
    const f = chatFixture({ model });
    const { turn } = await f.chat({ message: 'What is up?' });

    const again = await f.chat({
      message: '',
      conversationId: turn.conversationId,
      regenerate: true,
    });

    expect(streamedText(again.events)).toBe('answer 2');
    const asked = model.requests[1]!.messages.map((m) => [m.role, textOf(m.blocks)]);
    expect(asked).toEqual([['user', 'What is up?']]);
    const [conversation] = await f.conversations();
    expect(conversation?.superseded).toEqual([[2, 2]]);
    expect((await f.messages(turn.conversationId)).map((m) => m.content)).toEqual([
      'What is up?',
      'answer 1',
      'answer 2',
    ]);
  });

  it('leaves a regenerated answer out of the next prompt', async () => {
    const model = numbered();
    const f = chatFixture({ model });
    const { turn } = await f.chat({ message: 'Q1' });
    await f.chat({ message: '', conversationId: turn.conversationId, regenerate: true });

    await f.chat({ message: 'Q2', conversationId: turn.conversationId });

    const asked = model.requests[2]!.messages.map((m) => textOf(m.blocks));
    expect(asked).toEqual(['Q1', 'answer 2', 'Q2']);
  });

  it('edits an earlier question: what followed is superseded, the conversation continues from it', async () => {
    const model = numbered();
    const f = chatFixture({ model });
    const { turn } = await f.chat({ message: 'Q1' });
    await f.chat({ message: 'Q2', conversationId: turn.conversationId });
    const [, , q2] = await f.messages(turn.conversationId);

    await f.chat({ message: 'Q2, edited', conversationId: turn.conversationId, replaces: q2!.id });

    const asked = model.requests[2]!.messages.map((m) => textOf(m.blocks));
    expect(asked).toEqual(['Q1', 'answer 1', 'Q2, edited']);
    const [conversation] = await f.conversations();
    expect(conversation?.superseded).toEqual([[3, 4]]);
  });

  it('edits again a question by the id it had before its edit, as useChat keeps it (it was a 404)', async () => {
    const model = numbered();
    const f = chatFixture({ model });
    const { turn } = await f.chat({ message: 'Q1' });
    const conversationId = turn.conversationId;
    await f.chat({ message: 'Q2', conversationId });
    const [, , q2] = await f.messages(conversationId);
    await f.chat({ message: 'Q2, edited', conversationId, replaces: q2!.id });

    await f.chat({ message: 'Q2, edited again', conversationId, replaces: q2!.id });

    const asked = model.requests[3]!.messages.map((m) => textOf(m.blocks));
    expect(asked).toEqual(['Q1', 'answer 1', 'Q2, edited again']);
    const [conversation] = await f.conversations();
    expect(conversation?.superseded).toEqual([
      [3, 4],
      [5, 6],
    ]);
    // Every question typed and answer shown is kept.
    expect((await f.messages(conversationId)).map((m) => m.content)).toEqual([
      'Q1',
      'answer 1',
      'Q2',
      'answer 2',
      'Q2, edited',
      'answer 3',
      'Q2, edited again',
      'answer 4',
    ]);
  });

  it('refuses to replace an answer, an unknown message, or to regenerate with nothing to answer', async () => {
    const f = chatFixture({ model: numbered() });
    const { turn } = await f.chat({ message: 'Q1' });
    const [, answer] = await f.messages(turn.conversationId);
    const conversationId = turn.conversationId;

    const replacingAnswer = f.start({ message: 'x', conversationId, replaces: answer!.id });
    const unknown = f.start({ message: 'x', conversationId, replaces: 'msg_nope' });
    const noConversation = f.start({ message: '', regenerate: true });

    await expect(replacingAnswer).rejects.toBeInstanceOf(NotFoundError);
    await expect(unknown).rejects.toBeInstanceOf(NotFoundError);
    await expect(noConversation).rejects.toThrow(/needs the conversationId/);
    expect((await f.month()).heldNanoUsd).toBe((await f.month()).spentNanoUsd);
  });

  it('refuses to regenerate when the last answer has no question before it in the window, undoing the turn', async () => {
    const f = chatFixture({ model: numbered(), limits: { contextWindowTokens: 1 } });
    const { turn } = await f.chat({ message: 'A question too long for a one-token window' });
    const before = await f.messages(turn.conversationId);

    const error = await f
      .start({ message: '', conversationId: turn.conversationId, regenerate: true })
      .catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(ConflictError);
    expect(await f.messages(turn.conversationId)).toEqual(before);
    expect((await f.month()).heldNanoUsd).toBe((await f.month()).spentNanoUsd);
  });
});
