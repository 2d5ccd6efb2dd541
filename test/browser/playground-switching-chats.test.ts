import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from '../integration/support/test-stack.js';
import { chromiumMissing, launchChromium } from './support/chromium.js';
import { chatIdOf, directive, openPlayground } from './support/playground-page.js';

describe.skipIf(chromiumMissing)('the playground switching conversations, in Chromium', () => {
  let browser: Browser;
  let stack: TestStack;
  beforeAll(async () => {
    [browser, stack] = await Promise.all([launchChromium(), startTestStack()]);
  });
  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });

  it('shows the conversation clicked last, even when the one clicked before loads later', async () => {
    const idOf = async (message: string) => {
      const events = await (await stack.chat('switcher', { message })).text();
      return /"conversationId":"(conv_[a-f0-9]{32})"/.exec(events)![1]!;
    };
    const slow = await idOf(`A long chat, slow to load ${directive('tokens=2')}`);
    const quick = await idOf(`A short chat ${directive('tokens=2')}`);
    const page = await openPlayground(browser, stack, 'switcher');
    await page.route(`**/v1/conversations/${slow}?*`, async (route) => {
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      await route.continue();
    });

    await page.getByRole('button', { name: /^A long chat/ }).click();
    await page.getByRole('button', { name: /^A short chat/ }).click();

    await page.waitForTimeout(2_500);
    expect(chatIdOf(page)).toBe(quick);
    // What the composer sends to: a question typed now must go to the chat marked open.
    expect(await page.locator('.message.user .text').allTextContents()).toEqual([
      `A short chat ${directive('tokens=2')}`,
    ]);
    expect(
      await page.getByRole('button', { name: /^A short chat/ }).getAttribute('aria-current'),
    ).toBe('true');
    await page.close();
  });
});
