import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
 * A reload reads the conversation, then resumes the answer streaming in it: an answer that
 * ends in between is found by neither as streaming (the resume gets 204).
 */
describe.skipIf(chromiumMissing)('the playground reloaded as an answer ends, in Chromium', () => {
  let browser: Browser;
  let stack: TestStack;
  beforeAll(async () => {
    [browser, stack] = await Promise.all([
      launchChromium(),
      startTestStack({ claude: { tokensPerSecond: 25 } }),
    ]);
  });
  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });

  it('shows the whole stored answer, not the part read before it ended', async () => {
    const page = await openPlayground(browser, stack, 'late-reload');
    await ask(page, `Count a little ${directive('tokens=50')}`);
    await expect
      .poll(async () => (await answer(page).textContent())?.length ?? 0)
      .toBeGreaterThan(0);
    const id = chatIdOf(page);
    const ended = async () =>
      (
        await json(await stack.request('late-reload', 'GET', `/v1/conversations/${id}`))
      ).messages.at(-1).stopReason !== undefined;
    // The resume leaves only once the answer has ended: what a slow network does to it.
    await page.route('**/v1/ui/chat/*/stream', async (route) => {
      await expect.poll(ended, { timeout: 10_000 }).toBe(true);
      await route.continue();
    });

    await page.reload();

    await answerFacts(page).waitFor({ timeout: 10_000 });
    expect(await answerFacts(page).textContent()).toMatch(/complete · /);
    const stored = await json(await stack.request('late-reload', 'GET', `/v1/conversations/${id}`));
    expect(await answer(page).textContent()).toBe(stored.messages.at(-1).content);
    await page.close();
  });
});
