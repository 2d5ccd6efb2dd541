import { describe, expect, it } from 'vitest';
import type { MessageActions } from '../../shared/ports/message-actions.js';

export interface MessageActionsSubject {
  actions: MessageActions;
  /** Puts `body` on the jobs queue and receives it: the receipt handle of a message in flight. */
  inFlight(body: string): Promise<string>;
  /**
   * Seconds, from now, until the in-flight message is delivered again: measured on a
   * queue, read from what a recording fake recorded.
   */
  hiddenForSeconds(receiptHandle: string): Promise<number>;
  /** Seconds, from now, until a message with `body` is delivered on the jobs queue. */
  deliveredAfterSeconds(body: string): Promise<number>;
  /** The dead-letter queue's messages, once `count` have arrived. */
  deadLetters(count: number): Promise<Array<{ body: string; reason: string }>>;
}

/** The MessageActions port's behaviour, for the recording fake and the SQS adapter. */
export function messageActionsContract(
  subject: (options: { deadLetterQueue: boolean }) => Promise<MessageActionsSubject>,
) {
  describe('delayRetry', () => {
    it('hides a message for the seconds asked, then it is delivered again', async () => {
      const { actions, inFlight, hiddenForSeconds } = await subject({ deadLetterQueue: true });
      const receiptHandle = await inFlight('{"type":"summarize.document"}');

      await actions.delayRetry(receiptHandle, 1);

      const hidden = await hiddenForSeconds(receiptHandle);
      expect(hidden).toBeGreaterThanOrEqual(0.9);
      expect(hidden).toBeLessThan(2.5);
    });

    it('makes a message visible again at once when asked for 0 seconds', async () => {
      const { actions, inFlight, hiddenForSeconds } = await subject({ deadLetterQueue: true });
      const receiptHandle = await inFlight('{"type":"summarize.document"}');

      await actions.delayRetry(receiptHandle, 0);

      expect(await hiddenForSeconds(receiptHandle)).toBeLessThan(0.5);
    });
  });

  describe('requeue', () => {
    it('puts the body on the queue again, delivered only after the delay asked', async () => {
      const { actions, deliveredAfterSeconds } = await subject({ deadLetterQueue: true });
      const body = `{"type":"summarize.document","n":"${Math.random()}"}`;

      await actions.requeue(body, 1);

      const seconds = await deliveredAfterSeconds(body);
      expect(seconds).toBeGreaterThanOrEqual(0.8);
      expect(seconds).toBeLessThan(2.5);
    });
  });

  describe('deadLetter', () => {
    it('moves the body to the dead-letter queue unchanged, with the reason', async () => {
      const { actions, deadLetters } = await subject({ deadLetterQueue: true });
      const body = '{"type":"summarize.document","text":""} not even JSON';

      await actions.deadLetter(body, 'invalid job message: text: too short');

      expect(await deadLetters(1)).toEqual([
        { body, reason: 'invalid job message: text: too short' },
      ]);
    });

    it('keeps the first 1000 characters of a long reason', async () => {
      const { actions, deadLetters } = await subject({ deadLetterQueue: true });
      const reason = `invalid job message: ${'x'.repeat(2_000)}`;

      await actions.deadLetter('{}', reason);

      const [letter] = await deadLetters(1);
      expect(letter?.reason).toBe(reason.slice(0, 1_000));
    });

    it('refuses to dead-letter when no dead-letter queue is configured', async () => {
      const { actions } = await subject({ deadLetterQueue: false });

      await expect(actions.deadLetter('{}', 'invalid')).rejects.toThrow(/dead/i);
    });
  });
}
