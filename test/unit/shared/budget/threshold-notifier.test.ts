import { describe, expect, it, vi } from 'vitest';
import { createThresholdNotifier } from '../../../../shared/budget/threshold-notifier.js';
import { usdToNano } from '../../../../shared/domain/pricing/model-price.js';
import { InMemoryBudgetNotices } from '../../../fakes/in-memory-budget-notices.js';
import { RecordingEventPublisher } from '../../../fakes/recording-event-publisher.js';

const MONTH = '2026-12';
const SCOPE = { scope: 'principal' as const, userId: 'alice' };
/** Half of a $10 budget spent: the 50% notice due. */
const HALF_SPENT = { scope: SCOPE, month: MONTH, spentNanoUsd: usdToNano(5), budgetUsd: 10 };

/** One function instance's notifier, and the table's notices it shares with the others. */
function notifierAt(startMs: number) {
  let nowMs = startMs;
  const clock = () => nowMs;
  const notices = new InMemoryBudgetNotices(clock);
  const events = new RecordingEventPublisher();
  const notify = createThresholdNotifier({ notices, events, clock });
  return { notify, notices, events, advance: (ms: number) => (nowMs += ms) };
}

describe('the threshold notifier', () => {
  it("tells nothing of a budget of $0, and the month's thresholds once a budget is set again", async () => {
    const { notify, events } = notifierAt(Date.parse('2026-12-02T10:00:00Z'));

    await notify({ ...HALF_SPENT, spentNanoUsd: 0, budgetUsd: 0 });
    await notify({ ...HALF_SPENT, budgetUsd: 0 });
    expect(events.published).toEqual([]);

    await notify(HALF_SPENT);
    expect(events.published).toMatchObject([{ type: 'budget.threshold', percent: 50 }]);
  });

  it('sends a notice another instance held while publishing, then gave back', async () => {
    const { notify, notices, events, advance } = notifierAt(Date.parse('2026-12-02T10:00:00Z'));
    // The worker claimed it a moment ago and is publishing it.
    await notices.claim(SCOPE, MONTH, 50);
    await notify(HALF_SPENT);
    expect(events.published).toEqual([]);

    // Its publish failed: it gave the notice back for a later check to send.
    await notices.release(SCOPE, MONTH, 50);
    advance(60_000);
    await notify(HALF_SPENT);

    expect(events.published).toMatchObject([{ type: 'budget.threshold', percent: 50 }]);
  });

  it('claims no notice again once it is surely taken', async () => {
    const { notify, notices, events, advance } = notifierAt(Date.parse('2026-12-02T10:00:00Z'));
    await notices.claim(SCOPE, MONTH, 50);
    // Long enough for whoever claimed it to have published it or given it back.
    advance(20 * 60_000);
    const claim = vi.spyOn(notices, 'claim');

    await notify(HALF_SPENT);
    await notify(HALF_SPENT);
    await notify(HALF_SPENT);

    expect(claim).toHaveBeenCalledTimes(1);
    expect(events.published).toEqual([]);
  });

  it('claims no notice again once it published it, and one whose publish failed again', async () => {
    const { notify, notices, events } = notifierAt(Date.parse('2026-12-02T10:00:00Z'));
    const claim = vi.spyOn(notices, 'claim');
    events.failing = true;
    await expect(notify(HALF_SPENT)).rejects.toThrow();

    events.failing = false;
    await notify(HALF_SPENT);
    await notify(HALF_SPENT);

    expect(claim).toHaveBeenCalledTimes(2);
    expect(events.published).toHaveLength(1);
  });
});
