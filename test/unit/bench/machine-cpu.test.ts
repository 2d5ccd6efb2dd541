import { describe, expect, it } from 'vitest';
import { cpuBetween, sampleCpu } from '../../../bench/machine-cpu.js';

/** Spends `ms` of this process's CPU time, however long a busy machine takes to give it. */
function burnCpu(ms: number): void {
  const start = process.cpuUsage();
  const spentMs = () => {
    const { user, system } = process.cpuUsage(start);
    return (user + system) / 1000;
  };
  while (spentMs() < ms) Math.sqrt(Math.random());
}

describe('bench CPU sampling from /proc', () => {
  it("reads a process's CPU time and how busy the machine was", async () => {
    // This process stands in for DynamoDB Local's JVM.
    const before = await sampleCpu(process.pid);
    burnCpu(300);
    const after = await sampleCpu(process.pid);

    const { dynamodbLocalCpuMsPerTurn, machineBusyPercent } = cpuBetween(before, after, 3);
    // 300 ms over 3 turns, give or take the 10 ms ticks and the test's own work.
    expect(dynamodbLocalCpuMsPerTurn).toBeGreaterThanOrEqual(90);
    expect(dynamodbLocalCpuMsPerTurn).toBeLessThan(150);
    // One core of the machine's was busy at least.
    expect(machineBusyPercent).toBeGreaterThan(0);
    expect(machineBusyPercent).toBeLessThanOrEqual(100);
  });

  it('leaves out what it cannot read', async () => {
    const sample = await sampleCpu(2 ** 30);
    expect(sample.dynamodbLocal).toBeUndefined();
    expect(cpuBetween(sample, sample, 1).dynamodbLocalCpuMsPerTurn).toBeUndefined();
  });
});
