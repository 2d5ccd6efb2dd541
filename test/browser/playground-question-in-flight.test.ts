import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json } from '../integration/support/sse.js';
import { startTestStack, type TestStack } from '../integration/support/test-stack.js';
import { chromiumMissing, launchChromium } from './support/chromium.js';
import {
  answerFacts,
  ask,
  chatIdOf,
  directive,
  openPlayground,
} from './support/playground-page.js';

/** The question takes 1.5 s to leave the page: a slow uplink, or a cold start. */
async function slowUplink(page: Page) {
  await page.route('**/v1/ui/chat', async (route) => {
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    // The page may have given the request up meanwhile.
    await route.continue().catch(() => undefined);
  });
}

/**
 * A chat closed (another one opened, or the page reloaded) while its question is on its
 * way: the page gives the request up, so it never learns whether the question was stored.
 * Opened again, the chat shows the question stored, or back in its composer.
 */
describe.skipIf(chromiumMissing)('a chat closed with its question on the way, in Chromium', () => {
  let browser: Browser;
  let stack: TestStack;
  beforeAll(async () => {
    [browser, stack] = await Promise.all([launchChromium(), startTestStack()]);
  });
  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });

  it('is back in the composer when the chat is opened again, not stored', async () => {
    const page = await openPlayground(browser, stack, 'hasty');
    await ask(page, `The first question ${directive('tokens=2')}`);
    await answerFacts(page).waitFor({ timeout: 10_000 });
    await slowUplink(page);
    const typed = 'A second question, sent just before opening another chat';

    await ask(page, typed);
    await page.getByRole('button', { name: 'New chat' }).click();
    await expect.poll(() => page.getByTestId('answer').count()).toBe(0);
    await page.waitForTimeout(2_000);
    await page.getByRole('button', { name: /^The first question/ }).click();

    await expect.poll(() => page.getByLabel('Message').inputValue()).toBe(typed);
    const stored = await json(
      await stack.request('hasty', 'GET', `/v1/conversations/${chatIdOf(page)}`),
    );
    expect(stored.messages).toHaveLength(2);
    await page.close();
  });

  it('is back in the composer after a reload, not stored', async () => {
    const page = await openPlayground(browser, stack, 'reloader');
    await ask(page, `The first question ${directive('tokens=2')}`);
    await answerFacts(page).waitFor({ timeout: 10_000 });
    await slowUplink(page);
    const typed = 'A second question, sent just before a reload';

    await ask(page, typed);
    await page.reload();

    await answerFacts(page).waitFor({ timeout: 10_000 });
    await expect.poll(() => page.getByLabel('Message').inputValue()).toBe(typed);
    await page.close();
  });

  it('is not given back once its answer has started', async () => {
    const page = await openPlayground(browser, stack, 'patient');
    await ask(page, `A question answered slowly ${directive('tokens=40 tps=20')}`);
    await page.getByRole('button', { name: 'Stop' }).waitFor();
    await expect.poll(() => page.getByRole('status').textContent()).toBe('Claude is answering…');

    await page.reload();

    await answerFacts(page).waitFor({ timeout: 10_000 });
    expect(await page.getByLabel('Message').inputValue()).toBe('');
    await page.close();
  });
});
