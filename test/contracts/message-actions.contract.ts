import { describe, expect, it } from 'vitest';
import type { MessageActions, QueueMessage } from '../../shared/ports/message-actions.js';

/** A message's string attributes by name, as a test compares them. */
export type StringAttributes = Record<string, string>;

export interface MessageActionsSubject {
  actions: MessageActions;
  /** Puts `body` on the jobs queue and receives it: the receipt handle of a message in flight. */
  inFlight(body: string): Promise<string>;
  /**
   * Seconds, from now, until the in-flight message is delivered again: measured on a
   * queue, read from what a recording fake recorded.
   */
  hiddenForSeconds(receiptHandle: string): Promise<number>;
  /**
   * When, in seconds from now, a message with `body` is delivered on the jobs queue, and
   * its string attributes (`afterSeconds` infinite: it never is).
   */
  delivered(body: string): Promise<{ afterSeconds: number; attributes: StringAttributes }>;
  /** The dead-letter queue's messages, once `count` have arrived; the reason apart. */
  deadLetters(
    count: number,
  ): Promise<Array<{ body: string; reason: string; attributes: StringAttributes }>>;
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
    it('puts the message on the queue again, delivered only after the delay asked', async () => {
      const { actions, delivered } = await subject({ deadLetterQueue: true });
      const body = `{"type":"summarize.document","n":"${Math.random()}"}`;

      await actions.requeue(message(body), 1);

      const { afterSeconds } = await delivered(body);
      expect(afterSeconds).toBeGreaterThanOrEqual(0.8);
      expect(afterSeconds).toBeLessThan(2.5);
    });

    it('keeps its attributes', async () => {
      const { actions, delivered } = await subject({ deadLetterQueue: true });
      const body = `{"type":"summarize.document","n":"${Math.random()}"}`;

      await actions.requeue(message(body, { type: 'summarize.document', tenant: 'acme' }), 0);

      expect((await delivered(body)).attributes).toEqual({
        type: 'summarize.document',
        tenant: 'acme',
      });
    });

    it('leaves off the reason an earlier dead-lettering gave the message', async () => {
      const { actions, delivered } = await subject({ deadLetterQueue: true });
      const body = `{"type":"summarize.document","n":"${Math.random()}"}`;

      await actions.requeue(message(body, { type: 'summarize.document', failureReason: 'old' }), 0);

      expect((await delivered(body)).attributes).toEqual({ type: 'summarize.document' });
    });

    it('carries the deliveries that failed before, its own count, not the one the message had', async () => {
      const { actions, delivered } = await subject({ deadLetterQueue: true });
      const body = `{"type":"summarize.document","n":"${Math.random()}"}`;
      const before = message(body, { type: 'summarize.document', failedDeliveries: '1' });

      await actions.requeue(before, 0, 3);

      expect((await delivered(body)).attributes).toEqual({
        type: 'summarize.document',
        failedDeliveries: '3',
      });
    });

    it('carries no count when none failed', async () => {
      const { actions, delivered } = await subject({ deadLetterQueue: true });
      const body = `{"type":"summarize.document","n":"${Math.random()}"}`;

      await actions.requeue(message(body, { failedDeliveries: '2' }), 0, 0);

      expect((await delivered(body)).attributes).toEqual({});
    });

    it("carries no count when all ten attributes SQS allows are the producer's (the job keeps it)", async () => {
      const { actions, delivered } = await subject({ deadLetterQueue: true });
      const body = `{"type":"summarize.document","n":"${Math.random()}"}`;
      const attributes = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`a${i}`, 'v']));

      await actions.requeue(message(body, attributes), 0, 3);

      expect((await delivered(body)).attributes).toEqual(attributes);
    });
  });

  describe('deadLetter', () => {
    it('moves the body to the dead-letter queue unchanged, with the reason', async () => {
      const { actions, deadLetters } = await subject({ deadLetterQueue: true });
      const body = '{"type":"summarize.document","text":""} not even JSON';

      await actions.deadLetter(message(body), 'invalid job message: text: too short');

      expect(await deadLetters(1)).toEqual([
        { body, reason: 'invalid job message: text: too short', attributes: {} },
      ]);
    });

    it('leaves off the failed deliveries a copy put back carried: a redrive starts again', async () => {
      const { actions, deadLetters } = await subject({ deadLetterQueue: true });

      await actions.deadLetter(
        message('{}', { type: 'summarize.document', failedDeliveries: '4' }),
        'overloaded_error: busy',
      );

      expect(await deadLetters(1)).toEqual([
        {
          body: '{}',
          reason: 'overloaded_error: busy',
          attributes: { type: 'summarize.document' },
        },
      ]);
    });

    it('gives its own reason, not the one an earlier dead-lettering gave the message', async () => {
      const { actions, deadLetters } = await subject({ deadLetterQueue: true });
      const redriven = message('{}', { type: 'summarize.document', failureReason: 'old' });

      await actions.deadLetter(redriven, 'overloaded_error: busy');

      expect(await deadLetters(1)).toEqual([
        {
          body: '{}',
          reason: 'overloaded_error: busy',
          attributes: { type: 'summarize.document' },
        },
      ]);
    });

    it('keeps its attributes beside the reason', async () => {
      const { actions, deadLetters } = await subject({ deadLetterQueue: true });

      await actions.deadLetter(message('{}', { type: 'summarize.document' }), 'model not allowed');

      expect(await deadLetters(1)).toEqual([
        { body: '{}', reason: 'model not allowed', attributes: { type: 'summarize.document' } },
      ]);
    });

    it('keeps the first 1000 characters of a long reason', async () => {
      const { actions, deadLetters } = await subject({ deadLetterQueue: true });
      const reason = `invalid job message: ${'x'.repeat(2_000)}`;

      await actions.deadLetter(message('{}'), reason);

      const [letter] = await deadLetters(1);
      expect(letter?.reason).toBe(reason.slice(0, 1_000));
    });

    it('replaces what SQS refuses in an attribute value in the reason, so the copy is taken', async () => {
      const { actions, deadLetters } = await subject({ deadLetterQueue: true });
      // A producer's model id quoted back; an emoji the 1,000-character cut splits in two.
      const quoted = 'invalid_request_error: model "x\uffff\ufffe" is not allowed';
      const cutEmoji = `${'x'.repeat(999)}\u{1F600}`;

      await actions.deadLetter(message('{"n":1}'), quoted);
      await actions.deadLetter(message('{"n":2}'), cutEmoji);

      const reasons = (await deadLetters(2)).map((letter) => letter.reason).sort();
      expect(reasons).toEqual(
        [
          'invalid_request_error: model "x\uFFFD\uFFFD" is not allowed',
          `${'x'.repeat(999)}\uFFFD`,
        ].sort(),
      );
    });

    it('refuses to dead-letter when no dead-letter queue is configured', async () => {
      const { actions } = await subject({ deadLetterQueue: false });

      await expect(actions.deadLetter(message('{}'), 'invalid')).rejects.toThrow(/dead/i);
    });
  });
}

/** A message with string attributes only, as the worker receives ours. */
function message(body: string, attributes: StringAttributes = {}): QueueMessage {
  return {
    body,
    attributes: Object.fromEntries(
      Object.entries(attributes).map(([name, value]) => [
        name,
        { dataType: 'String', stringValue: value },
      ]),
    ),
  };
}
