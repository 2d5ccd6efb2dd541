import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { conversationIdOfChat } from '../../functions/chat/routes/ui-chat-id.js';
import { json } from '../integration/support/sse.js';
import { startTestStack, type TestStack } from '../integration/support/test-stack.js';
import { chromiumMissing, launchChromium } from './support/chromium.js';
import { droppableProxy } from './support/droppable-proxy.js';
import { directive } from './support/playground-page.js';
import { startUseChatApp } from './support/use-chat-app.js';

/**
 * A question answered, as the chat's status showed it: an answer streamed in one render may
 * never show `streaming` (React batches its updates).
 */
const ANSWERED = /^submitted (streaming )?ready$/;

interface StoredMessage {
  id: string;
  role: 'user' | 'assistant';
  content: string;
  model?: string;
  stopReason?: string;
  usage?: Record<string, unknown>;
  costUsd?: number;
  superseded?: true;
}

/** The metadata useChat keeps for an answer the server has stored, as the server lists it. */
const metadataOf = (
  conversationId: string,
  { model, stopReason, usage, costUsd }: StoredMessage,
) => ({
  conversationId,
  model,
  stopReason,
  usage,
  costUsd,
});

/**
 * `useChat` set up as README says, in a React app on another origin (support/use-chat-app/),
 * in Chromium: what its user sees, and what the server stored of it.
 */
describe.skipIf(chromiumMissing)(
  'useChat in a React app set up as README shows, in Chromium',
  () => {
    let browser: Browser;
    let stack: TestStack;
    let app: Awaited<ReturnType<typeof startUseChatApp>>;
    beforeAll(async () => {
      app = await startUseChatApp();
      [browser, stack] = await Promise.all([
        launchChromium(),
        startTestStack({
          corsAllowedOrigins: [app.origin],
          claude: { tokensPerSecond: 400 },
          chatTuning: { stopPollIntervalMs: 50 },
        }),
      ]);
    });
    afterAll(async () => {
      await browser?.close();
      await stack?.close();
      await app?.close();
    });

    /**
     * The app on a new chat of `userId`'s, under the id the app made for it (README's, a
     * UUID: no conversation id), kept in the URL as README's reopening has it.
     * @param api the function URL the app is given: the stack's, or a proxy in front of it
     */
    async function openChat(
      userId: string,
      beforeOpening?: (page: Page) => Promise<unknown>,
      api = stack.url,
    ) {
      const page = await browser.newPage();
      await beforeOpening?.(page);
      const url = new URL(app.origin);
      url.search = new URLSearchParams({
        api,
        token: await stack.token(userId),
      }).toString();
      await page.goto(url.toString());
      await page.getByLabel('Message').waitFor();
      const chatId = new URL(page.url()).searchParams.get('chat') ?? '';
      expect(chatId).toMatch(/^[0-9a-f-]{36}$/);
      return { page, conversationId: conversationIdOfChat(userId, chatId) };
    }

    const ask = async (page: Page, text: string) => {
      await page.getByLabel('Message').fill(text);
      await page.getByRole('button', { name: 'Send' }).click();
    };
    const shown = async (page: Page) =>
      Promise.all(
        (await page.locator('li').all()).map(async (item) => [
          await item.getAttribute('data-role'),
          await item.locator('p').textContent(),
        ]),
      );
    const shownAnswer = async (page: Page) =>
      (await page.locator('li[data-role="assistant"] p').last().textContent()) ?? '';
    /** The metadata the page has for its last answer. */
    const shownMetadata = async (page: Page) =>
      JSON.parse(
        (await page.locator('li[data-role="assistant"]').last().getAttribute('data-metadata')) ??
          'null',
      );
    /** Status and Send as one snapshot: they must agree at every moment. */
    const statusAndSend = (page: Page) =>
      page.evaluate(
        `document.querySelector('[data-testid=status]').textContent + ' ' + (document.querySelector('button[type=submit]').disabled ? 'disabled' : 'enabled')`,
      );
    const stored = async (userId: string, conversationId: string, query = '') =>
      (
        await json(
          await stack.request(userId, 'GET', `/v1/conversations/${conversationId}${query}`),
        )
      ).messages as StoredMessage[];
    const asShown = (messages: StoredMessage[]) => messages.map((m) => [m.role, m.content]);

    /**
     * The statuses the chat goes through from now until it is done again (`ready` or `error`):
     * call it before the action, await what it returns after.
     */
    async function statusesFromNow(page: Page) {
      const statuses = async () =>
        ((await page.getByTestId('statuses').textContent()) ?? '').split(' ');
      const before = (await statuses()).length;
      return async () => {
        let since = '';
        await expect
          .poll(
            async () => {
              since = (await statuses()).slice(before).join(' ');
              return since;
            },
            { timeout: 10_000 },
          )
          .toMatch(/(ready|error)$/);
        return since;
      };
    }

    it('shows the answer as it streams (submitted, streaming, ready), then answers a second question with the history the server keeps', async () => {
      const { page, conversationId } = await openChat('ada');
      let done = await statusesFromNow(page);
      await ask(page, `My name is Ada. ${directive('reply=echo ttft=300 tps=50')}`);
      expect(await done()).toBe('submitted streaming ready');
      done = await statusesFromNow(page);
      await ask(page, `What is my name? ${directive('reply=echo')}`);
      expect(await done()).toMatch(ANSWERED);

      const messages = await stored('ada', conversationId);
      expect(messages).toHaveLength(4);
      expect(await shown(page)).toEqual(asShown(messages));
      expect(await shown(page)).toContainEqual(['assistant', expect.stringMatching(/^Echo: What/)]);
      const sent = stack.claude.requests.at(-1)!.body as { messages: unknown[] };
      expect(sent.messages).toHaveLength(3);
      await page.close();
    });

    it("stops an answer with README's Stop, the server's: the part shown stays, and is what is stored", async () => {
      const { page, conversationId } = await openChat('grace');
      const stop = page.getByRole('button', { name: 'Stop' });
      expect(await stop.isDisabled()).toBe(true);
      const done = await statusesFromNow(page);
      await ask(page, `Tell me a long story ${directive('tokens=400 tps=20 ttft=1000')}`);
      await expect.poll(() => shownAnswer(page), { timeout: 5_000 }).toMatch(/\w+ \w+ \w+/);
      await stop.click();
      expect(await done()).toBe('submitted streaming ready');
      expect(await page.getByTestId('stop-status').textContent()).toBe('202');
      expect(await stop.isDisabled()).toBe(true);

      const messages = await stored('grace', conversationId);
      expect(messages.at(-1)?.stopReason).toBe('stopped');
      expect(messages.at(-1)?.content.length).toBeLessThan(400);
      expect(await shown(page)).toEqual(asShown(messages));
      expect(await page.getByRole('alert').count()).toBe(0);
      await page.close();
    });

    it("stops an answer with README's Stop before it has started (submitted): Claude's call is closed, the question kept, the answer stopped", async () => {
      const { page, conversationId } = await openChat('hopper');
      const stop = page.getByRole('button', { name: 'Stop' });
      const done = await statusesFromNow(page);
      const before = stack.claude.requests.length;
      await ask(page, `Think it over ${directive('tokens=50 ttft=8000')}`);
      // The question is at Claude, which has not answered yet.
      await expect.poll(() => stack.claude.requests.length, { timeout: 5_000 }).toBe(before + 1);
      expect(await page.getByTestId('status').textContent()).toBe('submitted');
      expect(await stop.isDisabled()).toBe(false);
      const pressedAt = Date.now();
      await stop.click();

      expect(await done()).toMatch(/^submitted (streaming )?ready$/);
      expect(Date.now() - pressedAt).toBeLessThan(5_000);
      expect(await page.getByTestId('stop-status').textContent()).toBe('202');
      expect(stack.claude.requests[before]?.aborted).toBe(true);
      const messages = await stored('hopper', conversationId);
      expect(messages.map((m) => [m.role, m.stopReason])).toEqual([
        ['user', undefined],
        ['assistant', 'stopped'],
      ]);
      expect(messages[0]?.content).toContain('Think it over');
      expect(await page.getByRole('alert').count()).toBe(0);
      await page.close();
    });

    it("stops a regenerate() not yet answered with README's Stop after a reload: the question is named by the server's id", async () => {
      const { page, conversationId } = await openChat('lovelace');
      let done = await statusesFromNow(page);
      await ask(page, `Think again ${directive('tokens=3 ttft=3000')}`);
      expect(await done()).toMatch(ANSWERED);
      const before = stack.claude.requests.length;
      await page.getByRole('button', { name: 'Regenerate' }).click();
      await expect.poll(() => stack.claude.requests.length, { timeout: 5_000 }).toBe(before + 1);

      await page.reload();
      const stop = page.getByRole('button', { name: 'Stop' });
      await expect.poll(() => stop.isDisabled(), { timeout: 5_000 }).toBe(false);
      done = await statusesFromNow(page);
      await stop.click();

      expect(await done()).toMatch(/ready$/);
      expect(await page.getByTestId('stop-status').textContent()).toBe('202');
      expect(stack.claude.requests[before]?.aborted).toBe(true);
      // Stopped before its first token, it replaced nothing: the answer before it is back.
      const messages = await stored('lovelace', conversationId, '?include=superseded');
      expect(messages.map((m) => [m.role, m.stopReason, m.superseded])).toEqual([
        ['user', undefined, undefined],
        ['assistant', 'end_turn', undefined],
        ['assistant', 'stopped', true],
      ]);
      await page.close();
    });

    it('reopens the chat after a reload mid-answer: the question, and the answer followed to its end (resume: true)', async () => {
      const { page, conversationId } = await openChat('hedy');
      await ask(page, `Tell me at length ${directive('tokens=60 tps=30')}`);
      await expect.poll(() => shownAnswer(page), { timeout: 5_000 }).toMatch(/\w+ \w+ \w+/);
      const shownBefore = await shownAnswer(page);

      await page.reload();
      await expect
        .poll(() => page.getByTestId('statuses').textContent(), { timeout: 10_000 })
        .toMatch(/^ready (submitted )?streaming ready$/);

      const messages = await stored('hedy', conversationId);
      expect(messages.at(-1)?.stopReason).toBe('end_turn');
      expect(await shown(page)).toEqual(asShown(messages));
      expect(messages.at(-1)?.content.startsWith(shownBefore)).toBe(true);

      // The reopened chat goes on, answered with its history.
      const next = await statusesFromNow(page);
      await ask(page, 'And then?');
      expect(await next()).toMatch(ANSWERED);
      expect(await shown(page)).toEqual(asShown(await stored('hedy', conversationId)));
      expect((stack.claude.requests.at(-1)!.body as { messages: unknown[] }).messages).toHaveLength(
        3,
      );
      await page.close();
    });

    it('reopens the chat after a reload as its answer ends: the answer shown whole, not as the messages read it', async () => {
      const { page, conversationId } = await openChat('katherine');
      await ask(page, `Count a little ${directive('tokens=40 tps=25')}`);
      await expect.poll(() => shownAnswer(page), { timeout: 5_000 }).toMatch(/\w+/);
      const ended = async () => (await stored('katherine', conversationId)).at(-1)?.stopReason;
      // The resume leaves only once the answer has ended: what a slow network does to it.
      await page.route('**/v1/ui/chat/*/stream*', async (route) => {
        await expect.poll(ended, { timeout: 10_000 }).toBe('end_turn');
        await route.continue();
      });

      await page.reload();

      await expect.poll(ended, { timeout: 10_000 }).toBe('end_turn');
      const messages = await stored('katherine', conversationId);
      await expect.poll(() => shown(page), { timeout: 10_000 }).toEqual(asShown(messages));
      expect(await page.getByTestId('status').textContent()).toBe('ready');
      await page.close();
    });

    it("disables Send while a question is answered (submitted, streaming): one sent then would be refused, and its error wiped by the answer's next chunk", async () => {
      const { page } = await openChat('frances');
      expect(await statusAndSend(page)).toBe('ready enabled');
      const done = await statusesFromNow(page);
      await ask(page, `Tell me a story ${directive('tokens=40 tps=20 ttft=800')}`);

      await expect.poll(() => statusAndSend(page), { timeout: 5_000 }).toBe('submitted disabled');
      await expect.poll(() => statusAndSend(page), { timeout: 5_000 }).toBe('streaming disabled');
      expect(await done()).toBe('submitted streaming ready');
      expect(await statusAndSend(page)).toBe('ready enabled');
      await page.close();
    });

    /**
     * Cuts the page's connection mid-answer and waits for the chat's error, then for the answer
     * to end at the server.
     * @returns what reads the conversation's last stored message
     */
    async function cutUntilAnswered(
      proxy: Awaited<ReturnType<typeof droppableProxy>>,
      page: Page,
      userId: string,
      conversationId: string,
    ) {
      proxy.cut();
      await page.getByRole('alert').waitFor();
      const last = async () => (await stored(userId, conversationId)).at(-1);
      await expect
        .poll(async () => (await last())?.stopReason, { timeout: 10_000 })
        .toBe('end_turn');
      return last;
    }

    it("shows the whole answer, with its end, once README's Reconnect resumes it after the connection was lost and the answer ended meanwhile", async () => {
      const proxy = await droppableProxy(stack.url);
      const { page, conversationId } = await openChat('margaret', undefined, proxy.url);
      await ask(page, `Count slowly ${directive('tokens=80 tps=20')}`);
      await expect.poll(() => shownAnswer(page), { timeout: 5_000 }).toMatch(/\w+ \w+ \w+/);

      const last = await cutUntilAnswered(proxy, page, 'margaret', conversationId);
      const cutOff = await shownAnswer(page);
      const done = await statusesFromNow(page);
      await page.getByRole('button', { name: 'Reconnect' }).click();

      // The replay, whole, may come in one render: React need not show `submitted`.
      expect(await done()).toMatch(/ready$/);
      const answer = (await last())!;
      expect(cutOff.length).toBeLessThan(answer.content.length);
      expect(await shown(page)).toEqual(asShown(await stored('margaret', conversationId)));
      expect(await shownMetadata(page)).toEqual(metadataOf(conversationId, answer));
      expect(await page.getByRole('alert').count()).toBe(0);
      expect(await page.getByRole('button', { name: 'Reconnect' }).count()).toBe(0);
      await page.close();
      await proxy.close();
    });

    it('shows the whole answer of a reopened chat once useChat resumes it as the tab comes back, after the connection was lost and the answer ended meanwhile', async () => {
      const proxy = await droppableProxy(stack.url);
      const { page, conversationId } = await openChat('radia', undefined, proxy.url);
      await ask(page, `Tell me at length ${directive('tokens=40 tps=30')}`);
      await expect.poll(() => shownAnswer(page), { timeout: 5_000 }).toMatch(/\w+ \w+ \w+/);
      // Reopened mid-answer: README's reopening resumes (resume: true as useChat mounts).
      await page.reload();
      await expect
        .poll(() => page.getByTestId('statuses').textContent(), { timeout: 10_000 })
        .toMatch(/^ready (submitted )?streaming ready$/);
      // The chat goes on: its next answer, not the one it opened with, is the one cut off.
      await ask(page, `Count slowly ${directive('tokens=80 tps=20')}`);
      await expect.poll(async () => (await shown(page)).length, { timeout: 5_000 }).toBe(4);
      await expect.poll(() => shownAnswer(page), { timeout: 5_000 }).toMatch(/\w+ \w+ \w+/);

      const last = await cutUntilAnswered(proxy, page, 'radia', conversationId);
      const done = await statusesFromNow(page);
      await page.evaluate("document.dispatchEvent(new Event('visibilitychange'))");

      expect(await done()).toMatch(/ready$/);
      expect(await shown(page)).toEqual(asShown(await stored('radia', conversationId)));
      expect(await shownMetadata(page)).toEqual(metadataOf(conversationId, (await last())!));
      expect(await page.getByRole('alert').count()).toBe(0);
      await page.close();
      await proxy.close();
    });

    it('shows a failure mid-answer as the chat error, keeping the part shown, which is what is stored', async () => {
      const { page, conversationId } = await openChat('edsger');
      const done = await statusesFromNow(page);
      await ask(page, `go ${directive('fault=error-mid after=3 type=overloaded_error')}`);
      // Three words and the error may come in one render: React need not show `streaming`.
      expect(await done()).toMatch(/^submitted (streaming )?error$/);

      expect(await page.getByRole('alert').textContent()).toMatch(/overloaded/i);
      // Failed, not cut off: there is nothing to reconnect to.
      expect(await page.getByRole('button', { name: 'Reconnect' }).count()).toBe(0);
      const messages = await stored('edsger', conversationId);
      expect(messages.at(-1)?.content).not.toBe('');
      expect(await shown(page)).toEqual(asShown(messages));
      await page.close();
    });

    it('shows a 402 as the chat error, keeping the question shown, and asks it with regenerate() once the budget allows', async () => {
      const admin = await stack.token('budget-admin', { admin: true });
      const setBudget = (monthlyBudgetUsd: number) =>
        fetch(`${stack.url}/v1/admin/principals/linus/budget`, {
          method: 'PUT',
          headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
          body: JSON.stringify({ monthlyBudgetUsd }),
        });
      expect((await setBudget(0)).status).toBe(200);
      const { page, conversationId } = await openChat('linus');
      let done = await statusesFromNow(page);
      await ask(page, 'A question over budget');
      expect(await done()).toBe('submitted error');
      expect(await page.getByRole('alert').textContent()).toMatch(/billing_error/);
      expect(await shown(page)).toEqual([['user', 'A question over budget']]);

      expect((await setBudget(10)).status).toBe(200);
      done = await statusesFromNow(page);
      await page.getByRole('button', { name: 'Regenerate' }).click();
      expect(await done()).toMatch(ANSWERED);
      expect(await page.getByRole('alert').count()).toBe(0);
      const messages = await stored('linus', conversationId);
      expect(messages.map((m) => m.role)).toEqual(['user', 'assistant']);
      expect(messages[0]?.content).toBe('A question over budget');
      expect(await shown(page)).toEqual(asShown(messages));
      await page.close();
    });

    it('shows a 400 for a question over the 32,000 characters a message may hold as the chat error, keeping the question shown', async () => {
      const { page, conversationId } = await openChat('pasting');
      const pasted = 'A pasted document. '.repeat(1_700);
      const done = await statusesFromNow(page);
      await ask(page, pasted);
      expect(await done()).toBe('submitted error');

      expect(await page.getByRole('alert').textContent()).toMatch(
        /invalid_request_error.*at most 32000 characters/,
      );
      expect(await shown(page)).toEqual([['user', pasted]]);
      const response = await stack.request('pasting', 'GET', `/v1/conversations/${conversationId}`);
      expect(response.status).toBe(404);
      await page.close();
    });

    it("keeps the error of a question refused as a new chat opens: README's reopening asks for no resume there, whose 'ready' would wipe it", async () => {
      const resumes: string[] = [];
      const { page } = await openChat('at-once', (page) =>
        page.route('**/v1/ui/chat/*/stream*', async (route) => {
          resumes.push(route.request().url());
          await new Promise((resolve) => setTimeout(resolve, 1_500));
          await route.continue();
        }),
      );

      await ask(page, 'Sent at once. '.repeat(2_500));

      await expect.poll(() => page.getByRole('alert').count()).toBe(1);
      // Longer than a slow resume would have taken to answer.
      await page.waitForTimeout(2_000);
      expect(await page.getByRole('alert').textContent()).toMatch(/at most 32000 characters/);
      expect(await page.getByTestId('status').textContent()).toBe('error');
      expect(resumes).toEqual([]);
      await page.close();
    });

    it('regenerates the last answer: the new one is shown, and stored in place of the old, kept as superseded', async () => {
      const { page, conversationId } = await openChat('alan');
      let done = await statusesFromNow(page);
      await ask(page, 'Say something');
      expect(await done()).toMatch(ANSWERED);
      const answer = page.locator('li[data-role="assistant"]');
      const firstId = await answer.getAttribute('data-id');
      const calls = stack.claude.requests.length;

      done = await statusesFromNow(page);
      await page.getByRole('button', { name: 'Regenerate' }).click();
      expect(await done()).toMatch(ANSWERED);

      expect(stack.claude.requests.length).toBe(calls + 1);
      const messages = await stored('alan', conversationId);
      expect(await shown(page)).toEqual(asShown(messages));
      const newId = await answer.getAttribute('data-id');
      expect(newId).not.toBe(firstId);
      expect(messages.at(-1)?.id).toBe(newId);
      const all = await stored('alan', conversationId, '?include=superseded');
      expect(all.find((m) => m.id === firstId)?.superseded).toBe(true);

      // Reloaded, the chat shows the answer that replaced the old one, and not the old one.
      await page.reload();
      await expect.poll(() => answer.getAttribute('data-id'), { timeout: 5_000 }).toBe(newId);
      expect(await shown(page)).toEqual(asShown(messages));
      expect(await page.locator(`li[data-id="${firstId}"]`).count()).toBe(0);
      await page.close();
    });
    it('edits a question of the reopened chat by the id the stored messages gave it: it and what followed are replaced', async () => {
      const { page, conversationId } = await openChat('barbara');
      for (const question of ['First question', 'Second question']) {
        const done = await statusesFromNow(page);
        await ask(page, question);
        expect(await done()).toMatch(ANSWERED);
      }
      await page.reload();
      await expect.poll(() => shown(page), { timeout: 5_000 }).toHaveLength(4);

      await page.getByLabel('Message').fill(`First question, edited ${directive('reply=echo')}`);
      const done = await statusesFromNow(page);
      await page.getByRole('button', { name: 'Edit' }).first().click();
      expect(await done()).toMatch(ANSWERED);

      const messages = await stored('barbara', conversationId);
      expect(await shown(page)).toEqual(asShown(messages));
      expect(messages.map((m) => m.content)).toEqual([
        `First question, edited ${directive('reply=echo')}`,
        expect.stringMatching(/^Echo: First question, edited/),
      ]);
      await page.close();
    });
  },
);
