/** The trace the local functions run in when traced: one header for the whole process. */
export const LOCAL_TRACE = {
  root: '1-6b0cb0bb-0123456789abcdef01234567',
  /** Lambda's facade segment takes its id from the header's Parent. */
  parent: '53995c3f42cd8ad8',
} as const;

/**
 * What Lambda's environment holds for a function with active tracing, as far as Powertools
 * Tracer and the X-Ray SDK read it (they read it as they load). The header is sampled: every
 * request is traced and sent, the worst case (Lambda samples the first request each second
 * and 5% of the rest by default).
 */
export function tracedLambdaEnvironment(daemonAddress: string): Record<string, string> {
  return {
    AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x',
    LAMBDA_TASK_ROOT: '/var/task',
    _HANDLER: 'index.handler',
    POWERTOOLS_TRACE_ENABLED: 'true',
    AWS_XRAY_DAEMON_ADDRESS: daemonAddress,
    AWS_XRAY_CONTEXT_MISSING: 'LOG_ERROR',
    _X_AMZN_TRACE_ID: `Root=${LOCAL_TRACE.root};Parent=${LOCAL_TRACE.parent};Sampled=1`,
  };
}
