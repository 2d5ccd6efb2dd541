import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../integration/support/api-keys.js';
import { apiRequests } from '../integration/support/claude-requests.js';
import { json } from '../integration/support/sse.js';
import { startTestStack, type TestStack } from '../integration/support/test-stack.js';
import { chromiumMissing, launchChromium, openPage } from './support/chromium.js';
import { answer, answerFacts, ask, directive, openPlayground } from './support/playground-page.js';

describe.skipIf(chromiumMissing)('the playground in Chromium', () => {
  let browser: Browser;
  let stack: TestStack;
  beforeAll(async () => {
    [browser, stack] = await Promise.all([
      launchChromium(),
      startTestStack({
        claude: { tokensPerSecond: 25 },
        chatTuning: { stopPollIntervalMs: 50 },
      }),
    ]);
  });
  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });

  it('shows the answer growing before it ends, then its cost and the month usage', async () => {
    const page = await openPlayground(browser, stack, 'alice');
    // The token leaves the address bar as soon as the page has read it.
    await expect.poll(() => page.url()).not.toContain('token=');

    // 4 s of streaming: room to see it unfinished on a busy machine (1.6 s once was not).
    await ask(page, `Count to forty ${directive('tokens=100')}`);
    await expect
      .poll(async () => (await answer(page).textContent())?.length ?? 0)
      .toBeGreaterThan(0);
    const early = (await answer(page).textContent()) ?? '';
    // Still streaming: the answer's facts (stop reason, cost) come with its end.
    expect(await answerFacts(page).count()).toBe(0);
    await expect.poll(() => page.getByRole('status').textContent()).toBe('Claude is answering…');
    // Not read out token by token: no live region holds the answer, only the status line's end.
    const liveRegion =
      '[aria-live]:not([aria-live="off"]), [role="log"], [role="status"], [role="alert"], output';
    const answerInLiveRegion = `document.querySelector('[data-testid="answer"]').closest('${liveRegion}') !== null`;
    expect(await page.evaluate(answerInLiveRegion)).toBe(false);

    await answerFacts(page).waitFor({ timeout: 10_000 });
    const final = (await answer(page).textContent()) ?? '';
    expect(final.length).toBeGreaterThan(early.length);
    expect(final.startsWith(early)).toBe(true);
    expect(await answerFacts(page).textContent()).toMatch(/complete · .* tokens · \$0\.\d{6}/);
    // Said where a screen reader hears it: the facts under the answer are not announced.
    await expect.poll(() => page.getByRole('status').textContent()).toBe('Answer complete.');

    // The conversation is listed, and the usage shows what it cost.
    await expect
      .poll(() => page.getByRole('navigation', { name: 'Conversations' }).textContent())
      .toContain('Count to forty');
    await expect.poll(() => page.getByLabel(/of \$\d+\.\d\d spent/).count()).toBe(1);
    const usage = await json(await stack.request('alice', 'GET', '/v1/usage'));
    expect(usage.costUsd).toBeGreaterThan(0);
    await page.close();
  });

  it('picks up the answer still streaming after a reload, and sees it to its end', async () => {
    const page = await openPlayground(browser, stack, 'carol');
    await ask(page, `Count to sixty ${directive('tokens=60')}`);
    await expect
      .poll(async () => (await answer(page).textContent())?.length ?? 0)
      .toBeGreaterThan(0);
    const asked = stack.claude.requests.length;

    await page.reload();

    await answerFacts(page).waitFor({ timeout: 10_000 });
    expect(await answerFacts(page).textContent()).toMatch(/complete · /);
    const conversationId = new URL(page.url()).hash.replace('#chat=', '');
    const stored = await json(
      await stack.request('carol', 'GET', `/v1/conversations/${conversationId}`),
    );
    expect(await answer(page).textContent()).toBe(stored.messages.at(-1).content);
    expect(await page.getByTestId('answer').count()).toBe(1);
    // Nothing was asked again: the rest came from the table, as the turn saved it.
    expect(stack.claude.requests.length).toBe(asked);
    await page.close();
  });

  it('ends the answer as stopped when Stop is pressed', async () => {
    const page = await openPlayground(browser, stack, 'bob');
    await ask(page, `Tell me a long story ${directive('tokens=2000')}`);
    await expect
      .poll(async () => (await answer(page).textContent())?.length ?? 0)
      .toBeGreaterThan(0);

    const stopRequest = page.waitForRequest((request) => request.url().includes('/stop'));
    await page.getByRole('button', { name: 'Stop' }).click();
    const stopUrl = new URL((await stopRequest).url());
    await answerFacts(page).waitFor({ timeout: 5_000 });
    expect(await answerFacts(page).textContent()).toContain('stopped');
    await expect.poll(() => page.getByRole('button', { name: 'Stop' }).count()).toBe(0);

    const [conversation] = (await json(await stack.request('bob', 'GET', '/v1/conversations')))
      .conversations;
    const stored = await json(
      await stack.request('bob', 'GET', `/v1/conversations/${conversation.id}`),
    );
    expect(stored.messages.at(-1)).toMatchObject({
      role: 'assistant',
      stopReason: 'stopped',
      content: await answer(page).textContent(),
    });
    // It named the answer it stopped: a Stop pressed as an answer ends cannot stop the next.
    expect(stopUrl.searchParams.get('messageId')).toBe(stored.messages.at(-1).id);
    await page.close();
  });

  it('opens a listed conversation with its messages, and continues it', async () => {
    const page = await openPlayground(browser, stack, 'carol');
    await ask(page, `My first question ${directive('tokens=8')}`);
    await answerFacts(page).waitFor({ timeout: 10_000 });
    await page.getByRole('button', { name: 'New chat' }).click();
    await expect.poll(() => page.getByTestId('answer').count()).toBe(0);

    await page.getByRole('button', { name: 'My first question' }).click();
    await expect.poll(() => page.getByTestId('answer').count()).toBe(1);
    await ask(page, `My second question ${directive('tokens=8')}`);
    await expect.poll(() => page.getByTestId('answer-facts').count(), { timeout: 10_000 }).toBe(2);
    const sent = stack.claude.requests.at(-1)!.body as { messages: unknown[] };
    expect(sent.messages).toHaveLength(3);
    await page.close();
  });

  it('regenerates the last answer, which replaces the old one', async () => {
    const page = await openPlayground(browser, stack, 'erin');
    await ask(page, `Say it twice ${directive('tokens=8')}`);
    await answerFacts(page).waitFor({ timeout: 10_000 });
    const asked = stack.claude.requests.length;

    await page.getByRole('button', { name: 'Regenerate' }).click();
    await expect.poll(() => stack.claude.requests.length).toBe(asked + 1);
    await answerFacts(page).waitFor({ timeout: 10_000 });
    await expect.poll(() => page.getByRole('button', { name: 'Regenerate' }).count()).toBe(1);
    expect(await page.getByTestId('answer').count()).toBe(1);
    const again = stack.claude.requests.at(-1)!.body as { messages: unknown[] };
    expect(again.messages).toHaveLength(1);
    await page.close();
  });

  it("shows an API key's own budget, which binds too, when the token is that key", async () => {
    const { key } = await createApiKey(stack, { principal: 'keyed', monthlyBudgetUsd: 0.25 });
    const page = await openPage(browser, `${stack.url}/`);
    await page.getByLabel('API token (a JWT or a csk_ key)').fill(key);
    await page.getByRole('button', { name: 'Use token' }).click();

    const usage = page.getByRole('region', { name: 'Usage this month' });
    await expect.poll(() => usage.textContent()).toMatch(/This key: \$0\.0000 of \$0\.25 spent/);
    expect(await usage.textContent()).toContain('$0.2500 left');
    await page.close();
  });

  it("keeps the page's width when an error carries a long unbroken text (a proxy's answer)", async () => {
    const page = await openPlayground(browser, stack, 'proxied');
    await page.route('**/v1/ui/chat', (route) =>
      route.fulfill({ status: 502, contentType: 'text/plain', body: 'x'.repeat(3_000) }),
    );

    await ask(page, 'A question a proxy refuses');

    await expect.poll(() => page.getByRole('alert').textContent()).toContain('x'.repeat(3_000));
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBe(1100);
    const composer = (await page.getByLabel('Message').boundingBox())!;
    expect(composer.x + composer.width).toBeLessThanOrEqual(1100);
    await page.close();
  });

  it("says a proxy's HTML error page by its status and title, not as markup", async () => {
    const page = await openPlayground(browser, stack, 'proxied');
    await page.route('**/v1/ui/chat', (route) =>
      route.fulfill({
        status: 502,
        contentType: 'text/html',
        body: '<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>',
      }),
    );

    await ask(page, 'A question a proxy refuses');

    const alert = page.getByRole('alert');
    await alert.waitFor();
    expect(await alert.textContent()).toBe(
      'The server answered 502 (502 Bad Gateway), not from this API: a proxy or gateway in between?',
    );
    await page.close();
  });

  // The README's picture: PLAYGROUND_SCREENSHOT=docs/playground.png npm run test:browser.
  it("shows a two-turn conversation with each answer's facts and the month's usage", async () => {
    const page = await openPlayground(browser, stack, 'dana');
    await ask(page, 'What can you do on AWS serverless?');
    await answerFacts(page).waitFor({ timeout: 15_000 });
    await ask(page, 'And how is a turn billed?');
    await expect.poll(() => page.getByTestId('answer-facts').count(), { timeout: 15_000 }).toBe(2);
    await expect.poll(() => page.getByLabel(/of \$\d+\.\d\d spent/).count()).toBe(1);
    const png = await page.screenshot({
      path: process.env.PLAYGROUND_SCREENSHOT ?? '.local/playground.png',
      fullPage: true,
    });
    // A PNG of at least the page's size (1100 px wide), not an empty capture.
    expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
    expect(png.readUInt32BE(16)).toBe(1100);
    await page.close();
  });
});

describe.skipIf(chromiumMissing)("the playground on a deployment's host, in Chromium", () => {
  const HOST = 'playground.example';
  let browser: Browser;
  let stack: TestStack;
  beforeAll(async () => {
    [browser, stack] = await Promise.all([
      launchChromium([`--host-resolver-rules=MAP ${HOST} 127.0.0.1`]),
      startTestStack(),
    ]);
  });
  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });

  it("ignores a token in a link's fragment: a link must not sign the reader in as its sender", async () => {
    const url = new URL(stack.url);
    url.hostname = HOST;
    const page = await openPage(browser, `${url.origin}/#token=${await stack.token('mallory')}`);

    await page.getByLabel('API token (a JWT or a csk_ key)').waitFor();
    await expect.poll(() => page.url()).not.toContain('token=');
    expect(await page.getByRole('button', { name: 'Forget token' }).count()).toBe(0);
    await page.close();
  });
});

describe.skipIf(chromiumMissing)('the playground over budget, in Chromium', () => {
  let browser: Browser;
  let stack: TestStack;
  beforeAll(async () => {
    [browser, stack] = await Promise.all([
      launchChromium(),
      startTestStack({ env: { USER_MONTHLY_BUDGET_USD: '0.000001' } }),
    ]);
  });
  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });

  it('shows a readable message for a 402 from an exhausted budget', async () => {
    const page = await openPlayground(browser, stack, 'broke');
    await ask(page, 'Hello');
    const alert = page.getByRole('alert');
    await alert.waitFor();
    expect(await alert.textContent()).toMatch(
      /^Your monthly budget is used up \(.+\)\. It starts again on the 1st \(UTC\); an admin can raise it\.$/,
    );
    expect(await alert.textContent()).not.toContain('{');
    expect(apiRequests(stack.claude)).toHaveLength(0);
    await page.close();
  });
});
