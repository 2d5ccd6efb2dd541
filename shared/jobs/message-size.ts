import { PayloadTooLargeError } from '../domain/errors.js';
import { utf8Bytes } from '../domain/tokens.js';
import type { JobMessage } from './job-message.js';

/** The attribute producers can filter on: the job's type. */
export const JOB_TYPE_ATTRIBUTE = 'type';

/**
 * A job message's body as it goes on the queue: JSON, with every character outside
 * the Basic Multilingual Plane (emoji…) written as its `\u` surrogate escapes. SQS
 * accepts those characters as they are; the SQS emulator (fauxqs 2.4) refuses them,
 * and the escapes parse back to the same text everywhere.
 */
export function encodeJobMessage(message: JobMessage & { jobId: string }): string {
  return JSON.stringify(message).replace(
    /[\u{10000}-\u{10FFFF}]/gu,
    (character) =>
      `\\u${character.charCodeAt(0).toString(16)}\\u${character.charCodeAt(1).toString(16)}`,
  );
}

/**
 * What a job message weighs against the queue's size limit, as SQS counts it: the
 * body as sent plus each attribute's name, type and value.
 */
export function jobMessageBytes(message: JobMessage & { jobId: string }): number {
  return (
    utf8Bytes(encodeJobMessage(message)) +
    utf8Bytes(JOB_TYPE_ATTRIBUTE) +
    utf8Bytes('String') +
    utf8Bytes(message.type)
  );
}

export function messageTooLarge(bytes: number, maxBytes: number): PayloadTooLargeError {
  return new PayloadTooLargeError(
    `the job message is ${bytes} bytes once encoded, over the queue's limit of ${maxBytes}: send a shorter text`,
  );
}
