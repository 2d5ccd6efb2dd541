// Placeholder until the chat function lands; the entry path is the contract with infra/.
export const handler = async () => ({ statusCode: 503, body: '{"error":{"type":"unavailable","message":"not built yet"}}' });
