import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from '../integration/support/test-stack.js';
import { awayFromMinuteEnd } from '../integration/support/wall-clock-windows.js';
import { chromiumMissing, launchChromium } from './support/chromium.js';
import { answer, answerFacts, ask, directive, openPlayground } from './support/playground-page.js';

/**
 * A question the server refuses before storing it (429, 409, 402, 400) goes back into the
 * composer, and the conversation shows what is stored: nothing was lost, nothing unstored
 * is shown.
 */
describe.skipIf(chromiumMissing)('the playground refused by the rate limit, in Chromium', () => {
  let browser: Browser;
  let stack: TestStack;
  beforeAll(async () => {
    [browser, stack] = await Promise.all([
      launchChromium(),
      startTestStack({ env: { USER_REQUESTS_PER_MINUTE: '1' } }),
    ]);
  });
  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });

  it('puts a question refused with 429 back into the composer, and shows no unstored question', async () => {
    // Both requests in one minute's window: the second is refused.
    await awayFromMinuteEnd();
    const page = await openPlayground(browser, stack, 'limited');
    await ask(page, `First ${directive('tokens=2')}`);
    await answerFacts(page).waitFor({ timeout: 10_000 });
    const typed = 'A long question I typed with care, refused by the rate limit';

    await ask(page, typed);

    await page.getByRole('alert').waitFor();
    expect(await page.getByRole('alert').textContent()).toMatch(/^Too many requests right now/);
    await expect.poll(() => page.getByLabel('Message').inputValue()).toBe(typed);
    expect(await page.locator('.message.user').count()).toBe(1);
    // The first answer shows last again, but it did not end now: nothing to announce.
    expect(await page.getByRole('status').textContent()).toBe('');
    await page.close();
  });

  it('keeps the question and its answer shown when a Regenerate is refused', async () => {
    // Both requests in one minute's window: the second is refused.
    await awayFromMinuteEnd();
    const page = await openPlayground(browser, stack, 'limited-again');
    await ask(page, `Only question ${directive('tokens=4')}`);
    await answerFacts(page).waitFor({ timeout: 10_000 });
    const shown = await answer(page).textContent();

    await page.getByRole('button', { name: 'Regenerate' }).click();

    await page.getByRole('alert').waitFor();
    await expect.poll(() => page.getByTestId('answer').count()).toBe(1);
    expect(await answer(page).textContent()).toBe(shown);
    expect(await page.locator('.message.user .text').textContent()).toContain('Only question');
    expect(await page.getByLabel('Message').inputValue()).toBe('');
    expect(await page.getByRole('status').textContent()).toBe('');
    await page.close();
  });
});

describe.skipIf(chromiumMissing)('the playground refused for what it asked, in Chromium', () => {
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

  it('puts a question refused with 409 back while another tab of the chat is answering', async () => {
    const token = await stack.token('two-tabs');
    const context = await browser.newContext();
    await context.addInitScript((t) => sessionStorage.setItem('playground.token', t), token);
    const first = await context.newPage();
    await first.goto(`${stack.url}/`);
    await ask(first, `Short ${directive('tokens=2')}`);
    await answerFacts(first).waitFor({ timeout: 10_000 });
    const second = await context.newPage();
    await second.goto(first.url());
    await second.getByTestId('answer').waitFor();
    await ask(first, `Long ${directive('tokens=150')}`);
    await expect
      .poll(async () => (await answer(first).textContent())?.length ?? 0)
      .toBeGreaterThan(5);
    const typed = 'Typed in the second tab while the first one was answering';

    await ask(second, typed);

    await second.getByRole('alert').waitFor();
    expect(await second.getByRole('alert').textContent()).toMatch(/still being written/);
    await expect.poll(() => second.getByLabel('Message').inputValue()).toBe(typed);
    expect(await second.locator('.message.user .text').allTextContents()).not.toContain(typed);
    expect(await second.getByRole('status').textContent()).toBe('');
    await context.close();
  });

  it('puts a question over the length limit (a 400) back into the composer', async () => {
    const page = await openPlayground(browser, stack, 'too-long');
    const typed = `${'word '.repeat(6400)}x`; // 32,001 characters: MAX_MESSAGE_CHARS is 32,000

    await ask(page, typed);

    await page.getByRole('alert').waitFor();
    expect(await page.getByRole('alert').textContent()).toMatch(/at most 32000 characters/);
    await expect.poll(() => page.getByLabel('Message').inputValue()).toBe(typed);
    expect(await page.locator('.message').count()).toBe(0);
    await page.close();
  });

  it('leaves a question stored before its answer failed to start out of the composer', async () => {
    const page = await openPlayground(browser, stack, 'model-refused');
    const typed = `Refused upstream ${directive('fault=error-before status=400')}`;

    await ask(page, typed);

    await page.getByRole('alert').waitFor();
    // Stored with an empty, failed answer: sending it again would ask it twice.
    await expect.poll(() => page.getByTestId('answer-facts').count()).toBe(1);
    expect(await answerFacts(page).textContent()).toContain('failed');
    expect(await page.locator('.message.user .text').allTextContents()).toEqual([typed]);
    expect(await page.getByLabel('Message').inputValue()).toBe('');
    await page.close();
  });
});
