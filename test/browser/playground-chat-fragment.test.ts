import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from '../integration/support/test-stack.js';
import { chromiumMissing, launchChromium } from './support/chromium.js';
import { answerFacts, ask, directive } from './support/playground-page.js';

/**
 * `#chat=` names the open conversation; an id the API would refuse must not be used (`..`
 * is not encoded by encodeURIComponent: the page called `GET /v1/?limit=100`).
 */
describe.skipIf(chromiumMissing)('the playground opened at a #chat= that is no chat id', () => {
  let browser: Browser;
  let stack: TestStack;
  beforeAll(async () => {
    [browser, stack] = await Promise.all([launchChromium(), startTestStack()]);
  });
  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });

  for (const fragment of ['../', '..', '%00', 'a'.repeat(200)]) {
    it(`opens a new chat that works for #chat=${fragment.slice(0, 12)}`, async () => {
      const context = await browser.newContext();
      const token = await stack.token('fragment');
      await context.addInitScript((t) => sessionStorage.setItem('playground.token', t), token);
      const page = await context.newPage();
      const paths: string[] = [];
      page.on('request', (request) => paths.push(new URL(request.url()).pathname));

      await page.goto(`${stack.url}/#chat=${fragment}`);
      await page.getByLabel('Message').waitFor();
      await ask(page, `Hello ${directive('tokens=2')}`);

      await answerFacts(page).waitFor({ timeout: 10_000 });
      expect(await page.getByRole('alert').count()).toBe(0);
      expect(new URL(page.url()).hash).toMatch(/^#chat=conv_[a-f0-9]{32}$/);
      const strayCalls = paths.filter(
        (path) => path.startsWith('/v1/') && !/^\/v1\/(conversations|usage|ui\/chat)/.test(path),
      );
      expect(strayCalls).toEqual([]);
      await context.close();
    });
  }
});
