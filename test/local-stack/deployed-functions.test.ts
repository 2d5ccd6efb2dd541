import { describe, expect, it } from 'vitest';
import { deployedFunctions } from '../../local-stack/deployed-functions.js';

describe('deployedFunctions', () => {
  it('gives each function the timeout and memory cdk.json deploys, not the default', () => {
    const deployed = deployedFunctions(
      {
        workerTimeoutSeconds: 60,
        chatTimeoutSeconds: 120,
        chatMemoryMb: 1024,
        workerMemoryMb: 512,
      },
      {},
    );

    expect(deployed.chat).toEqual({ timeoutMs: 120_000, memoryMb: 1024 });
    expect(deployed.worker).toEqual({ timeoutMs: 60_000, memoryMb: 512 });
  });

  it('falls back to the stack defaults when cdk.json sets none', () => {
    expect(deployedFunctions({}, {})).toEqual({
      chat: { timeoutMs: 300_000, memoryMb: 384 },
      worker: { timeoutMs: 120_000, memoryMb: 1024 },
      maintenance: { timeoutMs: 50_000, memoryMb: 256 },
    });
  });

  it('lets the shell override either timeout for the local stack', () => {
    const deployed = deployedFunctions(
      { workerTimeoutSeconds: 60 },
      { WORKER_TIMEOUT_SECONDS: '30', CHAT_TIMEOUT_SECONDS: '45' },
    );

    expect(deployed.chat.timeoutMs).toBe(45_000);
    expect(deployed.worker.timeoutMs).toBe(30_000);
  });

  it('refuses a value the stack refuses, naming where it came from', () => {
    expect(() => deployedFunctions({ workerTimeoutSeconds: 5 }, {})).toThrow(
      /^cdk\.json's workerTimeoutSeconds: .*>=10 \(got 5\)$/,
    );
    expect(() => deployedFunctions({}, { CHAT_TIMEOUT_SECONDS: '30s' })).toThrow(
      /^CHAT_TIMEOUT_SECONDS: not a number \(got "30s"\)$/,
    );
    expect(() => deployedFunctions({ chatMemoryMb: 64 }, {})).toThrow(
      /^cdk\.json's chatMemoryMb: .*\(got 64\)$/,
    );
  });
});
