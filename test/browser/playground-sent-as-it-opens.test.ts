import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from '../integration/support/test-stack.js';
import { chromiumMissing, launchChromium } from './support/chromium.js';
import { answer, ask, openPlayground, startChats } from './support/playground-page.js';

/**
 * A question sent as a chat opens, refused at once (a proxy's 502 here), keeps its alert:
 * useChat sets the chat `ready` when a resume finds nothing to follow, which wiped the
 * error if that resume answered last (CI's loaded machine once did). A chat with no answer
 * going is opened without a resume, so nothing can overtake the question.
 */
describe.skipIf(chromiumMissing)(
  'the playground, a question sent as the chat opens, in Chromium',
  () => {
    let browser: Browser;
    let stack: TestStack;
    beforeAll(async () => {
      [browser, stack] = await Promise.all([launchChromium(), startTestStack()]);
    });
    afterAll(async () => {
      await browser?.close();
      await stack?.close();
    });

    /** The resume route as a slow function would answer it, and the question refused at once. */
    async function slowResumeQuickRefusal(page: Page) {
      const resumes: string[] = [];
      await page.route('**/v1/ui/chat/*/stream*', async (route) => {
        resumes.push(route.request().url());
        await new Promise((resolve) => setTimeout(resolve, 1_500));
        await route.continue();
      });
      await page.route('**/v1/ui/chat', (route) =>
        route.fulfill({
          status: 502,
          contentType: 'text/html',
          body: '<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>',
        }),
      );
      return resumes;
    }

    const refusal =
      'The server answered 502 (502 Bad Gateway), not from this API: a proxy or gateway in between?';

    it('keeps the alert of a question refused in a new chat, which asks for no resume', async () => {
      const page = await openPlayground(browser, stack, 'quick-new');
      const resumes = await slowResumeQuickRefusal(page);

      await ask(page, 'Sent as the chat opens');

      await expect.poll(() => page.getByRole('alert').textContent()).toBe(refusal);
      // Longer than the slow resume would have taken to answer.
      await page.waitForTimeout(2_000);
      expect(await page.getByRole('alert').textContent()).toBe(refusal);
      expect(await page.getByLabel('Message').inputValue()).toBe('Sent as the chat opens');
      expect(resumes).toEqual([]);
      await page.close();
    });

    it('keeps the alert in a reopened chat whose answer had ended', async () => {
      await startChats(stack, 'quick-reopened', 1);
      const page = await openPlayground(browser, stack, 'quick-reopened');
      const resumes = await slowResumeQuickRefusal(page);
      await page.getByRole('button', { name: /^Chat 1/ }).click();
      await expect.poll(() => answer(page).count()).toBe(1);

      await ask(page, 'Sent as the old chat opens');

      await expect.poll(() => page.getByRole('alert').textContent()).toBe(refusal);
      await page.waitForTimeout(2_000);
      expect(await page.getByRole('alert').textContent()).toBe(refusal);
      expect(resumes).toEqual([]);
      await page.close();
    });
  },
);
