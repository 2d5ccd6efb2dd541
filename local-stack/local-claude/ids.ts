import { randomBytes } from 'node:crypto';

const random = () => randomBytes(12).toString('hex');

/** A `request-id` header value, shaped like the real API's but recognisably local. */
export const newRequestId = () => `req_local_${random()}`;

/** A message id, shaped like the real API's `msg_…`. */
export const newMessageId = () => `msg_local_${random()}`;
