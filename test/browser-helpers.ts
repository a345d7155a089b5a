import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { after } from "node:test";
import { chromium, type Browser, type Page } from "playwright-core";

// Debian's chromium, driven by playwright-core (.ci/run installs it).
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/** Headless Chromium, closed after the file's tests; the flags keep it off this machine's closed network. */
export async function openBrowser(): Promise<Browser> {
  assert.ok(existsSync(CHROMIUM), `browser tests need Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`);
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
  after(() => browser.close());
  return browser;
}

/** A fresh browser context logged in by a login link (its page, then its button); script errors are collected. */
export async function logIn(browser: Browser, url: string, code: string): Promise<{ page: Page; errors: string[] }> {
  const page = await (await browser.newContext()).newPage();
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(`${url}/login?code=${code}`);
  await page.click("#login");
  await page.waitForSelector("#nav .who");
  return { page, errors };
}
