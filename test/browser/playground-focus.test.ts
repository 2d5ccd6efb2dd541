import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from '../integration/support/test-stack.js';
import { chromiumMissing, launchChromium, openPage } from './support/chromium.js';
import {
  answerFacts,
  ask,
  chatIdOf,
  directive,
  focused,
  openPlayground,
  startChats,
} from './support/playground-page.js';

/**
 * A keyboard-only person: each action that takes away or replaces what they pressed leaves
 * the focus where the next thing to do is, not on the page's start (where the next Tab would
 * begin again at the header).
 */
describe.skipIf(chromiumMissing)('where the keyboard lands after each action, in Chromium', () => {
  let browser: Browser;
  let stack: TestStack;
  beforeAll(async () => {
    [browser, stack] = await Promise.all([launchChromium(), startTestStack()]);
  });
  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });

  it('goes to the composer once a token is given, and to the token field once it is forgotten', async () => {
    const page = await openPage(browser, `${stack.url}/`);
    await page.getByRole('button', { name: 'Use token' }).waitFor();
    await page.keyboard.press('Tab');
    expect(await focused(page)).toBe('input: API token (a JWT or a csk_ key)');

    await page.keyboard.type(await stack.token('keys-only'));
    await page.keyboard.press('Enter');

    await expect.poll(() => focused(page)).toBe('textarea: Message');
    await page.keyboard.type(`Typed straight away ${directive('tokens=2')}`);
    await page.keyboard.press('Enter');
    await answerFacts(page).waitFor({ timeout: 10_000 });

    await page.getByRole('button', { name: 'Forget token' }).press('Enter');

    await expect.poll(() => focused(page)).toBe('input: API token (a JWT or a csk_ key)');
    await page.close();
  });

  it('goes back to the token field when the token given is refused, to type it again', async () => {
    const page = await openPage(browser, `${stack.url}/`);
    await page.getByRole('button', { name: 'Use token' }).waitFor();
    await page.keyboard.press('Tab');

    await page.keyboard.type('not-a-token');
    await page.keyboard.press('Enter');

    await page.getByRole('alert').waitFor();
    await expect.poll(() => focused(page)).toBe('input: API token (a JWT or a csk_ key)');
    await page.close();
  });

  it("goes to a new chat's composer on New chat", async () => {
    const page = await openPlayground(browser, stack, 'new-chat-keys');
    await ask(page, `A first chat ${directive('tokens=2')}`);
    await answerFacts(page).waitFor({ timeout: 10_000 });
    const first = chatIdOf(page);

    await page.getByRole('button', { name: 'New chat' }).press('Enter');

    await expect.poll(() => chatIdOf(page)).not.toBe(first);
    await expect.poll(() => page.locator('.message').count()).toBe(0);
    await expect.poll(() => focused(page)).toBe('textarea: Message');
    await page.close();
  });

  describe('with more conversations than the first page lists', () => {
    beforeAll(async () => {
      await startChats(stack, 'older-keys', 51);
    });

    it('goes to the first of the older conversations once they are listed', async () => {
      const page = await openPlayground(browser, stack, 'older-keys');
      const older = page.getByRole('button', { name: 'Older conversations' });

      // The last page: the button goes once pressed.
      await older.press('Enter');

      await expect.poll(() => older.count()).toBe(0);
      expect(await focused(page)).toBe(`button: Chat 1 ${directive('tokens=1')}`);
      await page.close();
    });

    it('leaves the keyboard where the person put it while the older ones were read', async () => {
      const page = await openPlayground(browser, stack, 'older-keys');
      const older = page.getByRole('button', { name: 'Older conversations' });
      let listOlder = () => {};
      const asked = new Promise<void>((resolve) => {
        void page.route('**/v1/conversations?*cursor=*', async (route) => {
          resolve();
          await new Promise<void>((release) => {
            listOlder = release;
          });
          await route.continue();
        });
      });
      await older.press('Enter');
      await asked;

      // The next question begun while the page is read.
      await page.getByLabel('Message').click();
      await page.keyboard.type('Half a que');
      listOlder();
      await expect.poll(() => older.count()).toBe(0);
      await page.keyboard.type('stion');

      expect(await focused(page)).toBe('textarea: Message');
      expect(await page.getByLabel('Message').inputValue()).toBe('Half a question');
      await page.close();
    });
  });
});
