import { afterEach, describe, expect, it, vi } from 'vitest';
import { TurnController } from '../../../../../functions/chat/turn/turn-controller.js';

describe('TurnController', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('aborts the upstream call at the deadline and says why', () => {
    vi.useFakeTimers();
    const controller = new TurnController(1_000);
    vi.advanceTimersByTime(999);
    expect(controller.signal.aborted).toBe(false);
    vi.advanceTimersByTime(1);
    expect(controller.signal.aborted).toBe(true);
    expect(controller.interruptedBy).toBe('timeout');
    controller.dispose();
  });

  it('aborts a stream that stays silent past the idle timeout, and not one that keeps talking', () => {
    vi.useFakeTimers();
    const controller = new TurnController(60_000);
    controller.touch(500);
    vi.advanceTimersByTime(400);
    controller.touch(500);
    vi.advanceTimersByTime(400);
    expect(controller.signal.aborted).toBe(false);
    vi.advanceTimersByTime(100);
    expect(controller.interruptedBy).toBe('idle');
    controller.dispose();
  });

  it('awaits an answer sent again with the start watchdog alone: the idle one rests until the next touch', () => {
    vi.useFakeTimers();
    const controller = new TurnController(60_000);
    controller.expectStartWithin(1_000);
    controller.started();
    controller.touch(500);

    controller.expectStartWithin(2_000);
    vi.advanceTimersByTime(1_999);
    expect(controller.signal.aborted).toBe(false);
    vi.advanceTimersByTime(1);
    expect(controller.interruptedBy).toBe('slow-start');
    controller.dispose();
  });

  it('stops when a poll finds a stop request, and keeps the first reason', async () => {
    vi.useFakeTimers();
    const controller = new TurnController(60_000);
    let stopRequested = false;
    controller.watchForStop(async () => stopRequested, 250);
    await vi.advanceTimersByTimeAsync(500);
    expect(controller.signal.aborted).toBe(false);
    stopRequested = true;
    await vi.advanceTimersByTimeAsync(250);
    expect(controller.interruptedBy).toBe('stopped');
    controller.interrupt('timeout');
    expect(controller.interruptedBy).toBe('stopped');
    controller.dispose();
  });

  it('survives a failing stop poll and tries again', async () => {
    vi.useFakeTimers();
    const controller = new TurnController(60_000);
    let calls = 0;
    controller.watchForStop(async () => {
      calls++;
      if (calls === 1) throw new Error('throttled');
      return true;
    }, 250);
    await vi.advanceTimersByTimeAsync(500);
    expect(calls).toBe(2);
    expect(controller.interruptedBy).toBe('stopped');
    controller.dispose();
  });

  it('settles dispose once the poll and the heartbeat under way have, not before', async () => {
    vi.useFakeTimers();
    const controller = new TurnController(60_000);
    const pending: Array<() => void> = [];
    const call = <T>(value: T) => new Promise<T>((resolve) => pending.push(() => resolve(value)));
    controller.watchForStop(() => call(false), 250);
    controller.every(250, () => call(true));
    await vi.advanceTimersByTimeAsync(250);
    expect(pending).toHaveLength(2);

    let disposed = false;
    const disposing = controller.dispose().then(() => {
      disposed = true;
    });
    await vi.advanceTimersByTimeAsync(1_000);
    expect(pending).toHaveLength(2);
    pending[0]?.();
    await Promise.resolve();
    expect(disposed).toBe(false);
    pending[1]?.();
    await disposing;
    expect(disposed).toBe(true);
  });

  it('clears every timer on dispose', () => {
    vi.useFakeTimers();
    const controller = new TurnController(1_000);
    controller.touch(100);
    controller.every(50, async () => {});
    controller.dispose();
    expect(vi.getTimerCount()).toBe(0);
  });
});
