import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withFailingAnswerReads } from '../integration/support/failing-reads.js';
import { json } from '../integration/support/sse.js';
import { startTestStack, type TestStack } from '../integration/support/test-stack.js';
import { chromiumMissing, launchChromium } from './support/chromium.js';
import {
  answer,
  answerFacts,
  ask,
  chatIdOf,
  directive,
  openPlayground,
} from './support/playground-page.js';

/**
 * A resume that cannot follow the answer to its end (a read of the table failed, or its
 * time ran out) ends `interrupted`: the answer goes on, and the page resumes again.
 */
describe.skipIf(chromiumMissing)('the playground told to resume again, in Chromium', () => {
  let browser: Browser;
  let stack: TestStack;
  const failing = { reads: 0 };
  beforeAll(async () => {
    [browser, stack] = await Promise.all([
      launchChromium(),
      startTestStack({
        claude: { tokensPerSecond: 25 },
        // A throttled read of the answer streaming, once armed.
        customizeChat: (adapters) => ({
          ...adapters,
          store: withFailingAnswerReads(adapters.store, failing),
        }),
      }),
    ]);
  });
  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });

  it('follows the answer to its end, whole, after a resume that had to stop', async () => {
    const page = await openPlayground(browser, stack, 'resumed-again');
    await ask(page, `Tell me at length ${directive('tokens=60')}`);
    await expect
      .poll(async () => (await answer(page).textContent())?.length ?? 0)
      .toBeGreaterThan(0);
    const id = chatIdOf(page);
    let resumes = 0;
    await page.route('**/v1/ui/chat/*/stream', async (route) => {
      resumes += 1;
      // The first resume's read of the answer fails: it ends, telling the page to resume again.
      if (resumes === 1) failing.reads = 1;
      await route.continue();
    });

    await page.reload();

    await answerFacts(page).waitFor({ timeout: 15_000 });
    expect(await answerFacts(page).textContent()).toMatch(/complete · /);
    const stored = await json(
      await stack.request('resumed-again', 'GET', `/v1/conversations/${id}`),
    );
    expect(await answer(page).textContent()).toBe(stored.messages.at(-1).content);
    expect(resumes).toBeGreaterThanOrEqual(2);
    await page.close();
  });
});
