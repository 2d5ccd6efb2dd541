import { existsSync } from 'node:fs';
import { type Browser, chromium, type Page } from 'playwright-core';

/**
 * Debian's Chromium (`apt-get install -y chromium`), or the one CHROMIUM_PATH names:
 * Playwright's own browser download does not work offline. Without one the browser tests
 * are skipped, unless BROWSER_TESTS=required (as in .ci/run), which makes that a failure.
 */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export const chromiumMissing = !existsSync(CHROMIUM_PATH);

if (chromiumMissing && process.env.BROWSER_TESTS === 'required') {
  throw new Error(
    `No Chromium at ${CHROMIUM_PATH}: install it (apt-get install -y chromium) or set CHROMIUM_PATH`,
  );
}
if (chromiumMissing) {
  console.warn(
    `Browser tests skipped: no Chromium at ${CHROMIUM_PATH} (apt-get install -y chromium, or set CHROMIUM_PATH)`,
  );
}

/** @param args more command-line switches, e.g. `--host-resolver-rules=…` */
export function launchChromium(args: string[] = []): Promise<Browser> {
  // --no-sandbox: the machine's user namespaces are not available to it in containers.
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: ['--no-sandbox', ...args] });
}

/** A page of a desktop's size, at `url`. */
export async function openPage(browser: Browser, url: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1100, height: 720 } });
  await page.goto(url);
  return page;
}
