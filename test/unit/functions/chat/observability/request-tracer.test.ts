import { describe, expect, it } from 'vitest';
import {
  isTracingOn,
  untraced,
} from '../../../../../functions/chat/observability/request-tracer.js';

const lambda = { AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x' };

describe('isTracingOn', () => {
  it('is on in Lambda unless POWERTOOLS_TRACE_ENABLED turns it off, as Powertools Tracer decides', () => {
    expect(isTracingOn(lambda)).toBe(true);
    expect(isTracingOn({ ...lambda, POWERTOOLS_TRACE_ENABLED: 'true' })).toBe(true);
    expect(isTracingOn({ ...lambda, POWERTOOLS_TRACE_ENABLED: 'false' })).toBe(false);
    expect(isTracingOn({ ...lambda, POWERTOOLS_TRACE_ENABLED: 'FALSE' })).toBe(false);
  });

  it('is off outside Lambda and under the SAM and Amplify mocks', () => {
    expect(isTracingOn({})).toBe(false);
    expect(isTracingOn({ POWERTOOLS_TRACE_ENABLED: 'true' })).toBe(false);
    expect(isTracingOn({ ...lambda, AWS_SAM_LOCAL: 'true' })).toBe(false);
    expect(isTracingOn({ AWS_EXECUTION_ENV: 'AWS_Lambda_amplify-mock' })).toBe(false);
  });
});

describe('untraced', () => {
  it('traces nothing and hands clients back as they are', () => {
    const client = { send: () => 'sent' };
    expect(untraced.isTracingEnabled()).toBe(false);
    expect(untraced.getSegment()).toBeUndefined();
    expect(untraced.captureAWSv3Client(client)).toBe(client);
  });
});
