import { createRequire } from 'node:module';
import { describe } from 'vitest';
import * as asyncLocalNamespace from '../../../../../shared/adapters/tracing/async-local-namespace.js';
import {
  type TraceContextModule,
  traceContextContract,
} from '../../../../contracts/trace-context.contract.js';

const require = createRequire(import.meta.url);

describe('cls-hooked (what the X-Ray SDK ships with)', () => {
  traceContextContract(() => require('cls-hooked/context') as TraceContextModule);
});

describe('the AsyncLocalStorage namespace (what the bundles use in its place)', () => {
  traceContextContract(() => asyncLocalNamespace as unknown as TraceContextModule);
});
