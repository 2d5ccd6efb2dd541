import { describe, expect, it } from 'vitest';
import { deployedTimeoutsMs } from '../../local-stack/deployed-timeouts.js';

describe('deployedTimeoutsMs', () => {
  it('gives the worker the timeout cdk.json deploys, not the default', () => {
    const timeouts = deployedTimeoutsMs({ workerTimeoutSeconds: 60, chatTimeoutSeconds: 120 }, {});

    expect(timeouts).toEqual({ chat: 120_000, worker: 60_000 });
  });

  it('falls back to the stack defaults when cdk.json sets none', () => {
    expect(deployedTimeoutsMs({}, {})).toEqual({ chat: 300_000, worker: 120_000 });
  });

  it('lets the shell override either for the local stack', () => {
    const timeouts = deployedTimeoutsMs(
      { workerTimeoutSeconds: 60 },
      { WORKER_TIMEOUT_SECONDS: '30', CHAT_TIMEOUT_SECONDS: '45' },
    );

    expect(timeouts).toEqual({ chat: 45_000, worker: 30_000 });
  });

  it('refuses a timeout the stack refuses, naming where it came from', () => {
    expect(() => deployedTimeoutsMs({ workerTimeoutSeconds: 5 }, {})).toThrow(
      /^cdk\.json's workerTimeoutSeconds: .*>=10 \(got 5\)$/,
    );
    expect(() => deployedTimeoutsMs({}, { CHAT_TIMEOUT_SECONDS: '30s' })).toThrow(
      /^CHAT_TIMEOUT_SECONDS: not a number \(got "30s"\)$/,
    );
  });
});
