import { randomBytes, randomUUID } from 'node:crypto';

const hex = () => randomUUID().replaceAll('-', '');

export const newConversationId = () => `conv_${hex()}`;
export const newMessageId = () => `msg_${hex()}`;
export const newJobId = () => `job_${hex()}`;
/**
 * 16 characters (base64url): the reservation's expiry (48 bits of epoch ms), then 48
 * random bits. An open reservation's id names an attribute on every month item it holds
 * money on, so its length is paid for on each write of the hottest items (see
 * docs/scaling.md); the expiry in it tells a hold left by a dead caller from the hold
 * itself, should its index entry never have landed.
 */
export const newReservationId = (expiresAtMs: number) => {
  const bytes = randomBytes(12);
  bytes.writeUIntBE(Math.max(0, Math.ceil(expiresAtMs)), 0, 6);
  return bytes.toString('base64url');
};

/** The expiry (epoch ms) a reservation id carries; undefined for an id not made by `newReservationId`. */
export const reservationIdExpiry = (id: string): number | undefined =>
  /^[A-Za-z0-9_-]{16}$/.test(id)
    ? Buffer.from(id.slice(0, 8), 'base64url').readUIntBE(0, 6)
    : undefined;

export const isConversationId = (id: string) => /^conv_[a-f0-9]{32}$/.test(id);
export const MESSAGE_ID_PATTERN = /^msg_[a-f0-9]{32}$/;
export const isMessageId = (id: string) => MESSAGE_ID_PATTERN.test(id);
export const isGeneratedJobId = (id: string) => /^job_[a-f0-9]{32}$/.test(id);

/**
 * A job id: ours (`job_<32 hex>`) or a producer's, 1-128 letters, digits and `._:-`, not
 * only dots (`.` and `..` are path segments: `GET /v1/jobs/..` names no job).
 */
export const JOB_ID_PATTERN = /^(?!\.+$)[A-Za-z0-9._:-]{1,128}$/;
export const isJobId = (id: string) => JOB_ID_PATTERN.test(id);
