import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signDevToken } from '../../local-stack/dev-token.js';
import { json } from '../integration/support/sse.js';
import { startTestStack, type TestStack } from '../integration/support/test-stack.js';
import { chromiumMissing, launchChromium } from './support/chromium.js';
import { answerFacts, ask, chatIdOf, directive, focused } from './support/playground-page.js';

/** A token that expires while the page is open: a new one is pasted, nothing typed is lost. */
describe.skipIf(chromiumMissing)('the playground with its token expired, in Chromium', () => {
  let browser: Browser;
  let stack: TestStack;
  beforeAll(async () => {
    // No leeway for the issuer's clock: the token is refused the moment it expires.
    const env = { TOKEN_CLOCK_TOLERANCE_SECONDS: '0' };
    [browser, stack] = await Promise.all([launchChromium(), startTestStack({ env })]);
  });
  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });

  it('asks for a new token over the chat, and keeps the question typed for it', async () => {
    const lifetimeMs = 6_000;
    const signedAt = Date.now();
    const expiring = await signDevToken('expiring', { expiresIn: `${lifetimeMs / 1000}s` });
    const context = await browser.newContext();
    await context.addInitScript((t) => sessionStorage.setItem('playground.token', t), expiring);
    const page = await context.newPage();
    await page.goto(`${stack.url}/`);
    await page.getByLabel('Message').waitFor();
    await page.waitForTimeout(signedAt + lifetimeMs + 1_500 - Date.now());
    const typed = 'A question I took a long time to write';

    await ask(page, typed);

    await page.getByRole('alert').first().waitFor();
    expect(await page.getByRole('alert').first().textContent()).toMatch(/^The token was refused/);
    await expect.poll(() => page.getByLabel('Message').inputValue()).toBe(typed);
    // The keyboard is where the new token goes, then back at the question.
    const tokenField = page.getByLabel('API token (a JWT or a csk_ key)');
    await expect.poll(() => focused(page)).toBe('input: API token (a JWT or a csk_ key)');
    await page.keyboard.type(await stack.token('expiring'));
    await page.keyboard.press('Enter');
    await expect.poll(() => tokenField.count()).toBe(0);
    expect(await page.getByLabel('Message').inputValue()).toBe(typed);
    await expect.poll(() => focused(page)).toBe('textarea: Message');

    await page.keyboard.press('End');
    await page.keyboard.type(` ${directive('tokens=3')}`);
    await page.keyboard.press('Enter');
    await answerFacts(page).waitFor({ timeout: 10_000 });
    const stored = await json(
      await stack.request('expiring', 'GET', `/v1/conversations/${chatIdOf(page)}`),
    );
    expect(stored.messages[0].content).toBe(`${typed} ${directive('tokens=3')}`);
    await context.close();
  });

  it("shows someone else's token, pasted over a refused one, none of the chat or drafts before", async () => {
    const lifetimeMs = 6_000;
    const signedAt = Date.now();
    const expiring = await signDevToken('ada', { expiresIn: `${lifetimeMs / 1000}s` });
    const context = await browser.newContext();
    await context.addInitScript((t) => sessionStorage.setItem('playground.token', t), expiring);
    const page = await context.newPage();
    await page.goto(`${stack.url}/`);
    await page.getByLabel('Message').waitFor();
    await ask(page, `Ada's private question ${directive('tokens=3')}`);
    await answerFacts(page).waitFor({ timeout: 10_000 });
    const adasChat = chatIdOf(page);
    await page.waitForTimeout(signedAt + lifetimeMs + 1_500 - Date.now());
    await ask(page, "Ada's unsent draft");
    await page.getByRole('alert').first().waitFor();

    const tokenField = page.getByLabel('API token (a JWT or a csk_ key)');
    await tokenField.fill(await stack.token('bob'));
    await page.getByRole('button', { name: 'Use token' }).click();

    await expect.poll(() => chatIdOf(page)).not.toBe(adasChat);
    await expect.poll(() => page.getByText("Ada's private question").count()).toBe(0);
    expect(await page.getByLabel('Message').inputValue()).toBe('');
    expect(await page.evaluate(() => JSON.stringify(sessionStorage))).not.toContain("Ada's");
    await context.close();
  });
});
