// Placeholder until the worker lands; the entry path is the contract with infra/.
export const handler = async () => ({ batchItemFailures: [] });
