import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from '../integration/support/test-stack.js';
import { chromiumMissing, launchChromium } from './support/chromium.js';

/**
 * The playground holds a bearer token once open: a site on another origin that opens or
 * frames it must get no handle on it (to navigate it to a look-alike asking for the token,
 * or to probe it).
 */
describe.skipIf(chromiumMissing)('the playground and a site on another origin, in Chromium', () => {
  let browser: Browser;
  let stack: TestStack;
  let site: Server;
  let siteOrigin: string;
  beforeAll(async () => {
    site = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end());
    await new Promise<void>((resolve) => site.listen(0, 'localhost', resolve));
    siteOrigin = `http://localhost:${(site.address() as AddressInfo).port}`;
    [browser, stack] = await Promise.all([launchChromium(), startTestStack()]);
  });
  afterAll(async () => {
    await browser?.close();
    await stack?.close();
    await new Promise((resolve) => site?.close(resolve));
  });

  it('keeps no handle on the playground it opened', async () => {
    const context = await browser.newContext();
    const opener = await context.newPage();
    await opener.goto(`${siteOrigin}/`);
    const opened = context.waitForEvent('page');

    await opener.evaluate(
      `window.playground = window.open(${JSON.stringify(`${stack.url}/`)}); null`,
    );

    const playground = await opened;
    await playground.getByRole('heading', { name: 'Claude playground' }).waitFor();
    expect(await playground.evaluate('window.opener')).toBeNull();
    // Its own browsing context group: the opener's window object for it reads as closed.
    expect(await opener.evaluate('window.playground.closed')).toBe(true);
    await context.close();
  });

  it('cannot frame it', async () => {
    const page = await browser.newPage();
    await page.goto(`${siteOrigin}/`);

    await page.setContent(`<iframe src="${stack.url}/"></iframe>`);

    const frame = await (await page.waitForSelector('iframe')).contentFrame();
    await expect.poll(() => frame?.url()).toMatch(/^chrome-error:/);
    await page.close();
  });
});
