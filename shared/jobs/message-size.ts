import { PayloadTooLargeError } from '../domain/errors.js';
import { queueJson } from '../domain/queue-json.js';
import { utf8Bytes } from '../domain/tokens.js';
import type { JobMessage } from './job-message.js';

/** The attribute producers can filter on: the job's type. */
export const JOB_TYPE_ATTRIBUTE = 'type';

/** A job message's body as it goes on the queue: JSON the queue takes as it is. */
export function encodeJobMessage(message: JobMessage & { jobId: string }): string {
  return queueJson(message);
}

/**
 * `text` as SQS takes it in a String attribute's value, which has the body's restrictions
 * (API_MessageAttributeValue) but no escapes to hide behind: each character it refuses (a
 * control character other than tab and line breaks, U+FFFE, U+FFFF, a lone surrogate such as
 * a cut leaves of an emoji) becomes U+FFFD. SQS would refuse the whole message otherwise.
 */
export function queueSafe(text: string): string {
  return text.replace(/[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '\uFFFD');
}

/**
 * What a job message weighs against the queue's size limit, as SQS counts it: the
 * body as sent plus each (String) attribute's name, type and value.
 */
export function jobMessageBytes(
  message: JobMessage & { jobId: string },
  attributes: Readonly<Record<string, string>> = { [JOB_TYPE_ATTRIBUTE]: message.type },
): number {
  return Object.entries(attributes).reduce(
    (bytes, [name, value]) => bytes + utf8Bytes(name) + utf8Bytes('String') + utf8Bytes(value),
    utf8Bytes(encodeJobMessage(message)),
  );
}

export function messageTooLarge(bytes: number, maxBytes: number): PayloadTooLargeError {
  return new PayloadTooLargeError(
    `the job message is ${bytes} bytes once encoded, over the queue's limit of ${maxBytes}: send a shorter text`,
  );
}
