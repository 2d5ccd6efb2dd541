import type { Browser, Page } from 'playwright-core';
import type { TestStack } from '../../integration/support/test-stack.js';
import { openPage } from './chromium.js';

/** A directive the local Claude reads from the message: pacing or length for this request. */
export const directive = (text: string) => `[[local-claude: ${text}]]`;

/**
 * The playground as a person opens it from `npm start`'s link: the token in the fragment.
 * @param origin where the page is loaded from: the stack, or a proxy in front of it
 */
export async function openPlayground(
  browser: Browser,
  stack: TestStack,
  userId: string,
  origin = stack.url,
) {
  return openPage(browser, `${origin}/#token=${await stack.token(userId)}`);
}

/** `count` conversations of one short exchange each, made through the API: `Chat 1 …` the oldest. */
export async function startChats(stack: TestStack, userId: string, count: number) {
  for (let chat = 1; chat <= count; chat++) {
    const response = await stack.chat(userId, {
      message: `Chat ${chat} ${directive('tokens=1')}`,
    });
    await response.text();
  }
}

export async function ask(page: Page, text: string) {
  await page.getByLabel('Message').fill(text);
  await page.getByLabel('Message').press('Enter');
}

/**
 * What has the keyboard's focus, as a keyboard user's next key would find it: a field by its
 * label, anything else by its text; `nothing` for the document's body.
 */
export const focused = (page: Page): Promise<string> =>
  page.evaluate(`(() => {
    const element = document.activeElement;
    if (element === null || element === document.body) return 'nothing';
    const label = element.id ? document.querySelector('label[for="' + element.id + '"]') : null;
    return element.tagName.toLowerCase() + ': ' + (label ?? element).textContent.trim();
  })()`);

export const answer = (page: Page) => page.getByTestId('answer').last();
export const answerFacts = (page: Page) => page.getByTestId('answer-facts').last();
export const chatIdOf = (page: Page) => new URL(page.url()).hash.replace('#chat=', '');
