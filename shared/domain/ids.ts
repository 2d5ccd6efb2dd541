import { randomUUID } from 'node:crypto';

const hex = () => randomUUID().replaceAll('-', '');

export const newConversationId = () => `conv_${hex()}`;
export const newMessageId = () => `msg_${hex()}`;
export const newJobId = () => `job_${hex()}`;

export const isConversationId = (id: string) => /^conv_[a-f0-9]{32}$/.test(id);
export const isGeneratedJobId = (id: string) => /^job_[a-f0-9]{32}$/.test(id);
