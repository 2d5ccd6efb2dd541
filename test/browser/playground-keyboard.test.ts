import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json } from '../integration/support/sse.js';
import { startTestStack, type TestStack } from '../integration/support/test-stack.js';
import { chromiumMissing, launchChromium } from './support/chromium.js';
import { answer, answerFacts, ask, directive, openPlayground } from './support/playground-page.js';

describe.skipIf(chromiumMissing)("the playground's composer keys, in Chromium", () => {
  let browser: Browser;
  let stack: TestStack;
  beforeAll(async () => {
    [browser, stack] = await Promise.all([launchChromium(), startTestStack()]);
  });
  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });

  it('adds a line on Shift+Enter and sends on Enter', async () => {
    const page = await openPlayground(browser, stack, 'keys');
    const box = page.getByLabel('Message');
    await box.fill('line one');
    await box.press('Shift+Enter');
    await box.pressSequentially(`line two ${directive('tokens=2')}`);
    expect(await page.locator('.message').count()).toBe(0);

    await box.press('Enter');

    await expect
      .poll(() => page.locator('.message.user .text').textContent())
      .toContain('line one\nline two');
    await page.close();
  });

  it('stops the answer on Escape in the composer, and says it stopped', async () => {
    const page = await openPlayground(browser, stack, 'escape');
    // 50 s of answer: still being written when Escape comes, however busy the machine.
    await ask(page, `Tell me a long story ${directive('tokens=2000 tps=40')}`);
    await expect
      .poll(async () => (await answer(page).textContent())?.length ?? 0)
      .toBeGreaterThan(0);

    const stopRequest = page.waitForRequest((request) => request.url().includes('/stop'));
    await page.getByLabel('Message').press('Escape');

    await stopRequest;
    await answerFacts(page).waitFor({ timeout: 5_000 });
    expect(await answerFacts(page).textContent()).toContain('stopped');
    await expect.poll(() => page.getByRole('status').textContent()).toBe('Answer stopped.');
    const [conversation] = (await json(await stack.request('escape', 'GET', '/v1/conversations')))
      .conversations;
    const stored = await json(
      await stack.request('escape', 'GET', `/v1/conversations/${conversation.id}`),
    );
    expect(stored.messages.at(-1)).toMatchObject({ stopReason: 'stopped' });
    await page.close();
  });

  it('does not send on the Enter that confirms an IME composition (Japanese, Chinese)', async () => {
    const page = await openPlayground(browser, stack, 'ime');
    const box = page.getByLabel('Message');
    await box.click();
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Input.imeSetComposition', {
      text: 'にほんご',
      selectionStart: 4,
      selectionEnd: 4,
    });
    // Whether the Enter below is part of the composition, as an IME's Enter is.
    await page.evaluate(
      "document.addEventListener('keydown', (e) => { window.enterComposing = e.isComposing }, { once: true, capture: true })",
    );

    await cdp.send('Input.dispatchKeyEvent', {
      type: 'rawKeyDown',
      key: 'Enter',
      code: 'Enter',
      windowsVirtualKeyCode: 13,
      nativeVirtualKeyCode: 13,
    });

    expect(await page.evaluate('window.enterComposing')).toBe(true);
    await page.waitForTimeout(500);
    expect(await page.locator('.message').count()).toBe(0);
    await page.close();
  });

  it('writes and shows a question in Arabic right to left', async () => {
    const page = await openPlayground(browser, stack, 'rtl');
    const question = 'مرحبا، كيف حالك؟';
    const box = page.getByLabel('Message');
    await box.fill(question);
    const direction = (selector: string) =>
      page.evaluate(`getComputedStyle(document.querySelector('${selector}')).direction`);
    expect(await direction('textarea')).toBe('rtl');

    await box.press('Enter');

    await expect.poll(() => page.locator('.message.user .text').textContent()).toBe(question);
    expect(await direction('.message.user .text')).toBe('rtl');
    await page.getByTestId('answer-facts').waitFor({ timeout: 10_000 });
    // Listed once answered: the list is read again after the answer's end.
    await page.locator('nav li button').waitFor();
    expect(await direction('nav li button')).toBe('rtl');
    // An answer in English stays left to right.
    expect(await direction('[data-testid="answer"]')).toBe('ltr');
    await page.close();
  });

  it('sends pasted code as it was indented, blank lines around it left out', async () => {
    const page = await openPlayground(browser, stack, 'indented');
    const code = `    if ready:\n        go()  ${directive('tokens=2')}`;
    await page.getByLabel('Message').fill(`\n\n${code}\n\n`);

    await page.getByLabel('Message').press('Enter');

    await page.getByTestId('answer-facts').waitFor({ timeout: 10_000 });
    const [conversation] = (await json(await stack.request('indented', 'GET', '/v1/conversations')))
      .conversations;
    const stored = await json(
      await stack.request('indented', 'GET', `/v1/conversations/${conversation.id}`),
    );
    expect(stored.messages[0].content).toBe(code);
    expect(await page.locator('.message.user .text').textContent()).toBe(code);
    await page.close();
  });

  it('keeps the focus in the composer when the button pressed goes: Send, Stop, Regenerate', async () => {
    const page = await openPlayground(browser, stack, 'keyboard-only');
    const focusIsInComposer = () => page.evaluate(`document.activeElement?.tagName === 'TEXTAREA'`);
    await page.getByLabel('Message').fill(`A long story ${directive('tokens=2000 tps=40')}`);

    // Send, disabled while the answer is written.
    await page.getByRole('button', { name: 'Send' }).press('Enter');
    await expect.poll(focusIsInComposer).toBe(true);

    // Stop, gone once the answer ended.
    await page.getByRole('button', { name: 'Stop' }).press('Enter');
    await page.getByTestId('answer-facts').waitFor({ timeout: 10_000 });
    await expect.poll(focusIsInComposer).toBe(true);

    // Regenerate, gone while the answer is written.
    await page.getByLabel('Message').fill(`Short ${directive('tokens=2')}`);
    await page.keyboard.press('Enter');
    await expect.poll(() => page.getByTestId('answer-facts').count()).toBe(2);
    const regenerated = page.waitForResponse('**/v1/ui/chat');
    await page.getByRole('button', { name: 'Regenerate' }).press('Enter');
    await (await regenerated).finished();
    await expect.poll(focusIsInComposer).toBe(true);
    await page.close();
  });
});
