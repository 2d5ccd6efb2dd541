import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json } from '../integration/support/sse.js';
import { startTestStack, type TestStack } from '../integration/support/test-stack.js';
import { chromiumMissing, launchChromium } from './support/chromium.js';
import { droppableProxy } from './support/droppable-proxy.js';
import {
  answer,
  answerFacts,
  ask,
  chatIdOf,
  directive,
  openPlayground,
} from './support/playground-page.js';

/** The server goes on with an answer whose reader was cut off, and stores it whole. */
describe.skipIf(chromiumMissing)('the playground losing its connection mid-answer', () => {
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

  it('picks the answer up again once back online, without a reload', async () => {
    const proxy = await droppableProxy(stack.url);
    const page = await openPlayground(browser, stack, 'dropped', proxy.url);
    await ask(page, `Count slowly ${directive('tokens=80')}`);
    await expect
      .poll(async () => (await answer(page).textContent())?.length ?? 0)
      .toBeGreaterThan(10);

    proxy.cut();

    await page.getByRole('alert').waitFor();
    expect(await page.getByRole('alert').textContent()).toBe(
      'The connection was lost before the answer ended.',
    );
    // Regenerating the cut-off text would replace the whole answer the server is storing.
    expect(await page.getByRole('button', { name: 'Regenerate' }).count()).toBe(0);

    await page.evaluate("window.dispatchEvent(new Event('online'))");

    await answerFacts(page).waitFor({ timeout: 15_000 });
    expect(await answerFacts(page).textContent()).toMatch(/complete · /);
    const stored = await json(
      await stack.request('dropped', 'GET', `/v1/conversations/${chatIdOf(page)}`),
    );
    expect(await answer(page).textContent()).toBe(stored.messages.at(-1).content);
    expect(await page.getByTestId('answer').count()).toBe(1);
    expect(await page.getByRole('alert').count()).toBe(0);
    await page.close();
    await proxy.close();
  });
});
