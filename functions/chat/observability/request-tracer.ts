import type { Tracer } from '@aws-lambda-powertools/tracer';
import type { TraceContexts } from '../../../shared/adapters/tracing/create-tracer.js';

/** What the chat function uses of Powertools Tracer. */
export type RequestTracer = Pick<
  Tracer,
  | 'isTracingEnabled'
  | 'getSegment'
  | 'setSegment'
  | 'captureAWSv3Client'
  | 'annotateColdStart'
  | 'addServiceNameAnnotation'
  | 'addErrorAsMetadata'
> &
  TraceContexts;

/**
 * Whether Powertools Tracer would trace here (its own rule): in Lambda, not under SAM or
 * Amplify's mocks, and not turned off by POWERTOOLS_TRACE_ENABLED.
 */
export function isTracingOn(env: NodeJS.ProcessEnv): boolean {
  const executionEnv = env.AWS_EXECUTION_ENV ?? '';
  return (
    (env.POWERTOOLS_TRACE_ENABLED ?? '').toLowerCase() !== 'false' &&
    executionEnv !== '' &&
    executionEnv !== 'AWS_Lambda_amplify-mock' &&
    (env.AWS_SAM_LOCAL ?? '') === ''
  );
}

/**
 * The tracer when tracing is off. Powertools Tracer is then never imported: the X-Ray SDK
 * under it is not loaded, nor its segments made and dropped for every call.
 */
export const untraced: RequestTracer = {
  isTracingEnabled: () => false,
  getSegment: () => undefined,
  setSegment: () => {},
  captureAWSv3Client: (client) => client,
  annotateColdStart: () => {},
  addServiceNameAnnotation: () => {},
  addErrorAsMetadata: () => {},
  runInOwnContext: (fn) => fn(),
};
