import { randomUUID } from 'node:crypto';

const hex = () => randomUUID().replaceAll('-', '');

export const newConversationId = () => `conv_${hex()}`;
export const newMessageId = () => `msg_${hex()}`;
export const newJobId = () => `job_${hex()}`;
