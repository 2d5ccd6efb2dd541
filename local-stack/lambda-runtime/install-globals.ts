/**
 * Side-effect module: defines `globalThis.awslambda` as the Lambda Node.js runtime does
 * before it loads a handler. Import it before any handler module: middy reads the global
 * as soon as `middy()` runs. Idempotent, and inert where a real runtime already set it.
 */
import { HttpResponseStream, streamifyResponse } from './streaming.js';

const scope = globalThis as { awslambda?: Record<string, unknown> };

if (typeof scope.awslambda?.streamifyResponse !== 'function') {
  scope.awslambda = { ...scope.awslambda, streamifyResponse, HttpResponseStream };
}
