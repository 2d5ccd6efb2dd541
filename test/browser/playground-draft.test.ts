import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from '../integration/support/test-stack.js';
import { chromiumMissing, launchChromium } from './support/chromium.js';
import { answerFacts, ask, directive, openPlayground } from './support/playground-page.js';

/** What is typed and not sent yet stays with its chat. */
describe.skipIf(chromiumMissing)("the playground's composer, in Chromium", () => {
  let browser: Browser;
  let stack: TestStack;
  beforeAll(async () => {
    [browser, stack] = await Promise.all([launchChromium(), startTestStack()]);
  });
  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });

  it('keeps a question being typed through opening another chat and coming back, and a reload', async () => {
    const page = await openPlayground(browser, stack, 'drafter');
    await ask(page, `The first chat ${directive('tokens=2')}`);
    await answerFacts(page).waitFor({ timeout: 10_000 });
    const typed = 'Half of a long question,\nnot sent yet';
    await page.getByLabel('Message').fill(typed);

    await page.getByRole('button', { name: 'New chat' }).click();
    await expect.poll(() => page.getByTestId('answer').count()).toBe(0);
    expect(await page.getByLabel('Message').inputValue()).toBe('');
    await page.getByRole('button', { name: /^The first chat/ }).click();

    await expect.poll(() => page.getByLabel('Message').inputValue()).toBe(typed);
    await page.reload();
    await expect.poll(() => page.getByLabel('Message').inputValue()).toBe(typed);

    await page.getByRole('button', { name: 'Forget token' }).click();
    expect(await page.evaluate('Object.keys(sessionStorage)')).toEqual([]);
    await page.close();
  });

  it('keeps a question being typed in a new chat, not started yet, through opening another chat', async () => {
    const page = await openPlayground(browser, stack, 'new-drafter');
    await ask(page, `An older chat ${directive('tokens=2')}`);
    await answerFacts(page).waitFor({ timeout: 10_000 });
    await page.getByRole('button', { name: 'New chat', exact: true }).click();
    await expect.poll(() => page.getByTestId('answer').count()).toBe(0);
    const typed = 'The start of a new chat, written while looking at an older one';
    await page.getByLabel('Message').fill(typed);

    await page.getByRole('button', { name: /^An older chat/ }).click();
    await expect.poll(() => page.getByTestId('answer').count()).toBe(1);
    await page.getByRole('button', { name: 'New chat', exact: true }).click();

    await expect.poll(() => page.getByLabel('Message').inputValue()).toBe(typed);
    await ask(page, `${typed} ${directive('tokens=2')}`);
    await answerFacts(page).waitFor({ timeout: 10_000 });
    // Started: the next new chat is a new one.
    await page.getByRole('button', { name: 'New chat', exact: true }).click();
    await expect.poll(() => page.getByTestId('answer').count()).toBe(0);
    expect(await page.getByLabel('Message').inputValue()).toBe('');
    await page.close();
  });
});
