import { randomBytes } from 'node:crypto';

const random = () => randomBytes(12).toString('hex');

/** A `request-id` header value, shaped like the real API's but recognisably local. */
export const newRequestId = () => `req_local_${random()}`;

/** A Message Batch id, shaped like the real API's `msgbatch_…`. */
export const newBatchId = () => `msgbatch_local_${random()}`;

/** A message id, shaped like the real API's `msg_…`. */
export const newMessageId = () => `msg_local_${random()}`;

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** A tool_use id shaped like the real API's: `toolu_01` and 22 base62 characters. */
export const newToolUseId = () =>
  `toolu_01${Array.from(randomBytes(22), (byte) => BASE62[byte % BASE62.length]).join('')}`;
