import { describe, expect, it } from 'vitest';
import { BudgetExceededError, ModelError } from '../../../../../shared/domain/errors.js';
import { ScriptedModel } from '../../../../fakes/scripted-model.js';
import { chatFixture, USER } from './support.js';

describe('the conversation a turn names', () => {
  it('starts a new conversation under the id it is given', async () => {
    const f = chatFixture({ model: new ScriptedModel([{ kind: 'answer', chunks: ['Hi'] }]) });
    const id = `conv_${'c'.repeat(32)}`;

    const { turn } = await f.chat({ message: 'Hello', newConversationId: id });

    expect(turn.conversationId).toBe(id);
    expect((await f.conversations()).map((conversation) => conversation.id)).toEqual([id]);
  });

  it('names the conversation in an error after the question was kept, so a retry continues it', async () => {
    const f = chatFixture({
      model: new ScriptedModel(() => ({ kind: 'fail-before', error: 'overloaded' })),
    });

    const error = await f.start({ message: 'Will this fail?' }).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(ModelError);
    const { conversationId } = error as ModelError;
    expect(conversationId).toMatch(/^conv_/);
    expect(await f.messages(conversationId!)).toMatchObject([
      { role: 'user', content: 'Will this fail?' },
      { role: 'assistant', stopReason: 'error' },
    ]);
  });

  it('names no conversation when a refused first turn left none', async () => {
    const f = chatFixture({ model: new ScriptedModel([{ kind: 'answer', chunks: ['x'] }]) });
    await f.ledger.setUserBudgetOverride(USER, 0.000001, f.clock());

    const error = await f.start({ message: 'Too dear' }).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(BudgetExceededError);
    expect((error as BudgetExceededError).conversationId).toBeUndefined();
  });
});
