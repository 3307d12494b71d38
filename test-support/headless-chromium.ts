// Debian's Chromium, headless, driven by playwright-core, for tests that open a report the way a
// person does: a fresh profile, no network (every request but the file itself is refused and
// counted), console errors and page errors collected.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type BrowserContext, chromium, type Page } from 'playwright-core';

export const chromiumBin = '/usr/bin/chromium';

export type OpenedPage = {
  page: Page;
  /** Console errors and uncaught page errors. */
  errors: string[];
  /** Requests the page tried beyond the file itself (all refused). */
  requests: string[];
  close(): Promise<void>;
};

export async function openOffline(
  file: string,
  viewport = { width: 1280, height: 900 },
): Promise<OpenedPage> {
  const profile = mkdtempSync(join(tmpdir(), 'chatsim-chromium-'));
  const context: BrowserContext = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumBin,
    headless: true,
    viewport,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  const url = pathToFileURL(file).href;
  const errors: string[] = [];
  const requests: string[] = [];
  await context.route('**/*', (route) => {
    const requested = route.request().url();
    if (requested === url) return route.continue();
    requests.push(requested);
    return route.abort();
  });
  const page = await context.newPage();
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => errors.push(`page: ${error.message}`));
  await page.goto(url);
  return {
    page,
    errors,
    requests,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
