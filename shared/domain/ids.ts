import { randomBytes, randomUUID } from 'node:crypto';

const hex = () => randomUUID().replaceAll('-', '');

export const newConversationId = () => `conv_${hex()}`;
export const newMessageId = () => `msg_${hex()}`;
export const newJobId = () => `job_${hex()}`;
/**
 * 96 random bits in 16 characters (base64url): an open reservation's id names an attribute
 * on every month item it holds money on, so its length is paid for on each write of the
 * hottest items (see docs/scaling.md), where a UUID's 36 characters were most of the hold.
 */
export const newReservationId = () => randomBytes(12).toString('base64url');

export const isConversationId = (id: string) => /^conv_[a-f0-9]{32}$/.test(id);
export const isGeneratedJobId = (id: string) => /^job_[a-f0-9]{32}$/.test(id);

/** A job id: ours (`job_<32 hex>`) or a producer's, 1-128 letters, digits and `._:-`. */
export const JOB_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;
export const isJobId = (id: string) => JOB_ID_PATTERN.test(id);
