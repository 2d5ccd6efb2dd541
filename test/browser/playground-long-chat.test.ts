import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json } from '../integration/support/sse.js';
import { startTestStack, type TestStack } from '../integration/support/test-stack.js';
import { chromiumMissing, launchChromium } from './support/chromium.js';
import {
  answer,
  answerFacts,
  ask,
  directive,
  openPlayground,
  startChats,
} from './support/playground-page.js';

/** A chat longer than one page of `GET /v1/conversations/{id}` (100 messages), more chats than one page of `GET /v1/conversations` (50). */
describe.skipIf(chromiumMissing)(
  'the playground on a long chat and many chats, in Chromium',
  () => {
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

    it('shows every turn of it, the newest too, after a reload mid-answer', async () => {
      let conversationId = '';
      for (let turn = 1; turn <= 51; turn++) {
        const response = await stack.chat('long', {
          message: `Question ${turn} ${directive('tokens=1')}`,
          ...(conversationId && { conversationId }),
        });
        const events = await response.text();
        conversationId ||= /"conversationId":"(conv_[a-f0-9]{32})"/.exec(events)![1]!;
      }
      const context = await browser.newContext();
      const token = await stack.token('long');
      await context.addInitScript((t) => sessionStorage.setItem('playground.token', t), token);
      const page = await context.newPage();
      await page.goto(`${stack.url}/#chat=${conversationId}`);

      await expect
        .poll(() => page.locator('.message.user .text').last().textContent())
        .toContain('Question 51 ');
      expect(await page.locator('.message.user').count()).toBe(51);

      await ask(page, `Question 52 ${directive('tokens=60')}`);
      await expect
        .poll(async () => (await answer(page).textContent())?.length ?? 0)
        .toBeGreaterThan(0);
      await page.reload();

      await expect
        .poll(() => page.getByTestId('answer-facts').count(), { timeout: 15_000 })
        .toBe(52);
      expect(await answerFacts(page).textContent()).toMatch(/complete · /);
      const questions = await page.locator('.message.user .text').allTextContents();
      expect(questions).toHaveLength(52);
      expect(questions.at(-1)).toContain('Question 52 ');
      const stored = await json(
        await stack.request('long', 'GET', `/v1/conversations/${conversationId}?limit=100`),
      );
      const rest = await json(
        await stack.request(
          'long',
          'GET',
          `/v1/conversations/${conversationId}?limit=100&cursor=${encodeURIComponent(stored.nextCursor)}`,
        ),
      );
      expect(await answer(page).textContent()).toBe(rest.messages.at(-1).content);
      await context.close();
    });

    it('lists the older conversations beyond the 50 newest on asking, and opens them', async () => {
      await startChats(stack, 'many', 51);
      const page = await openPlayground(browser, stack, 'many');
      const chats = page.getByRole('navigation', { name: 'Conversations' });
      await expect.poll(() => chats.getByRole('listitem').count()).toBe(50);
      expect(await chats.getByRole('button', { name: /^Chat 1 / }).count()).toBe(0);

      await chats.getByRole('button', { name: 'Older conversations' }).click();

      await chats.getByRole('button', { name: /^Chat 1 / }).click();
      await expect
        .poll(() => page.locator('.message.user .text').allTextContents())
        .toEqual([`Chat 1 ${directive('tokens=1')}`]);
      expect(await chats.getByRole('button', { name: 'Older conversations' }).count()).toBe(0);
      await page.close();
    });
  },
);
