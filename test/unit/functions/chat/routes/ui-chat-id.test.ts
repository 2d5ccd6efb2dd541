import { describe, expect, it } from 'vitest';
import { conversationIdOfChat } from '../../../../../functions/chat/routes/ui-chat-id.js';
import { ValidationError } from '../../../../../shared/domain/errors.js';
import { isConversationId } from '../../../../../shared/domain/ids.js';

describe('the conversation a useChat chat id names', () => {
  it('is the same for the same user and chat id, and a conversation id of ours', () => {
    const id = conversationIdOfChat('alice', 'Xy7_chat-1');
    expect(id).toBe(conversationIdOfChat('alice', 'Xy7_chat-1'));
    expect(isConversationId(id)).toBe(true);
  });

  it('differs between users, and between chat ids, even where their concatenations agree', () => {
    expect(conversationIdOfChat('alice', 'c1')).not.toBe(conversationIdOfChat('bob', 'c1'));
    expect(conversationIdOfChat('alice', 'c1')).not.toBe(conversationIdOfChat('alice', 'c2'));
    expect(conversationIdOfChat('ab', 'c')).not.toBe(conversationIdOfChat('a', 'bc'));
  });

  it('is a conversation id itself when one is given', () => {
    const id = `conv_${'0123456789abcdef'.repeat(2)}`;
    expect(conversationIdOfChat('alice', id)).toBe(id);
    // Not quite one of ours: mapped like any other chat id.
    expect(conversationIdOfChat('alice', 'conv_123')).not.toBe('conv_123');
  });

  it.each(['', 'a'.repeat(129), 'has space', '../etc', 'ünïcode', 'a.b'])(
    'refuses the chat id %j',
    (chatId) => {
      expect(() => conversationIdOfChat('alice', chatId)).toThrow(ValidationError);
    },
  );
});
