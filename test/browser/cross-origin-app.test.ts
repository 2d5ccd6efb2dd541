import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from '../integration/support/test-stack.js';
import { chromiumMissing, launchChromium } from './support/chromium.js';

/** An app on its own origin, allowed by `corsAllowedOrigins`, calling the function URL from Chromium. */
describe.skipIf(chromiumMissing)('a browser app on another origin, in Chromium', () => {
  let browser: Browser;
  let stack: TestStack;
  let app: Server;
  let appOrigin: string;
  beforeAll(async () => {
    app = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end());
    await new Promise<void>((resolve) => app.listen(0, 'localhost', resolve));
    appOrigin = `http://localhost:${(app.address() as AddressInfo).port}`;
    [browser, stack] = await Promise.all([
      launchChromium(),
      startTestStack({ corsAllowedOrigins: [appOrigin] }),
    ]);
  });
  afterAll(async () => {
    await browser?.close();
    await stack?.close();
    await new Promise((resolve) => app?.close(resolve));
  });

  it('resumes a lost answer by sending its last event id back as Last-Event-ID', async () => {
    const token = await stack.token('cross-origin');
    const page = await browser.newPage();
    await page.goto(`${appOrigin}/`);

    const resumed = await page.evaluate(
      async ({ api, token }) => {
        const auth = { authorization: `Bearer ${token}` };
        const chat = await fetch(`${api}/v1/chat`, {
          method: 'POST',
          headers: { ...auth, 'content-type': 'application/json' },
          body: JSON.stringify({ message: 'Hello [[local-claude: tokens=5]]' }),
        });
        const sent = await chat.text();
        const conversationId = /"conversationId":"(conv_\w+)"/.exec(sent)?.[1];
        const lastId = /^id: (msg_\w+:\d+)$/m.exec(sent)?.[1] ?? '';
        try {
          const resume = await fetch(`${api}/v1/conversations/${conversationId}/stream`, {
            headers: { ...auth, 'last-event-id': lastId },
          });
          return { status: resume.status, text: await resume.text() };
        } catch (error) {
          return { status: 0, text: String(error) };
        }
      },
      { api: stack.url, token },
    );

    // The answer ended meanwhile: the rest of it and its end come from the stored answer.
    expect(resumed.status, resumed.text).toBe(200);
    expect(resumed.text).toContain('event: done');
    await page.close();
  });

  it('creates an API key safely twice with an Idempotency-Key, reading that the second answer is a replay', async () => {
    const token = await stack.token('cross-origin-admin', { admin: true });
    const page = await browser.newPage();
    await page.goto(`${appOrigin}/`);

    const answers = await page.evaluate(
      async ({ api, token }) => {
        const create = async () => {
          try {
            const response = await fetch(`${api}/v1/admin/keys`, {
              method: 'POST',
              headers: {
                authorization: `Bearer ${token}`,
                'content-type': 'application/json',
                'idempotency-key': 'console-create-1',
              },
              body: JSON.stringify({ principal: 'team-console', name: 'console' }),
            });
            const body = (await response.json()) as { key?: { id: string } };
            return {
              status: response.status,
              id: body.key?.id,
              replayed: response.headers.get('idempotent-replayed'),
            };
          } catch (error) {
            return { status: 0, id: String(error), replayed: null };
          }
        };
        return [await create(), await create()];
      },
      { api: stack.url, token },
    );

    expect(answers.map((answer) => answer.status)).toEqual([201, 201]);
    expect(answers[1]?.id).toBe(answers[0]?.id);
    expect(answers.map((answer) => answer.replayed)).toEqual([null, 'true']);
    await page.close();
  });
});
