export { DIRECTIVE_HEADER } from './directives.js';
export { DEFAULT_MODELS } from './models.js';
export { DEFAULT_KEPT_REQUESTS, startLocalClaude } from './server.js';
export type { LocalClaude, LocalClaudeOptions, RecordedRequest } from './types.js';
