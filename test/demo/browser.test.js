// The demo page in a real browser: Debian's Chromium, driven by playwright-core (never a browser
// download). The page loads, lists users, receives server-sent events and posts a new user.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';
import { startDemo } from './demo-process.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync'];

test('the demo page loads, receives events and posts a user in headless Chromium', { timeout: 60_000 }, async () => {
  const demo = await startDemo();
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
  try {
    const page = await browser.newPage();
    const failed = [];
    page.on('response', (r) => {
      if (r.status() >= 400) failed.push(`${r.status()} ${r.url()}`);
    });
    await page.goto(demo.url, { timeout: 10_000 });
    assert.equal(await page.title(), 'Keel demo');
    // Users from GET /api/users.
    await page.locator('#users li', { hasText: 'Alice' }).waitFor({ timeout: 5000 });
    // Server-sent events: hello at once, ticks every second.
    await page.locator('#events li', { hasText: 'hello' }).waitFor({ timeout: 5000 });
    await page.locator('#events li', { hasText: 'tick' }).first().waitFor({ timeout: 5000 });
    assert.equal(await page.locator('#events-state').textContent(), 'live');
    // The logo and stylesheet loaded (an image with a size, a style applied).
    assert.ok(await page.locator('header img').evaluate((img) => img.complete && img.naturalWidth > 0));
    assert.equal(await page.locator('body').evaluate((b) => getComputedStyle(b).maxWidth), '960px');
    // Post a user through the form: it appears in the list and as a 'user' event.
    await page.fill('#name', 'Grace Hopper');
    await page.click('#user-form button[type=submit]');
    await page.locator('#users li', { hasText: 'Grace Hopper' }).waitFor({ timeout: 5000 });
    await page.locator('#form-status', { hasText: 'Added Grace Hopper' }).waitFor({ timeout: 5000 });
    await page.locator('#events li', { hasText: 'Grace Hopper joined' }).waitFor({ timeout: 5000 });
    // /fast answers while /slow computes on the worker.
    await page.click('#slow');
    await page.click('#fast');
    await page.locator('#timings li', { hasText: '/fast answered' }).waitFor({ timeout: 5000 });
    await page.locator('#timings li', { hasText: '/slow?n=40 answered' }).waitFor({ timeout: 20_000 });
    const timings = await page.locator('#timings li').allTextContents();
    assert.match(timings[1], /^\/fast answered/, 'fast came back first');
    await page.screenshot({ path: process.env.KEEL_SCREENSHOT ?? '/tmp/keel-demo.png', fullPage: true });
    assert.deepEqual(failed, []);
  } finally {
    await browser.close();
    await demo.stop();
  }
});
