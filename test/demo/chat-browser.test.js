// The chat page in a real browser: Debian's Chromium (playwright-core, never a browser download)
// opens chat.html in two pages; a message typed in one appears in both, as text (never HTML).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';
import { startDemo } from './demo-process.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync'];

test('two Chromium pages chat over the WebSocket', { timeout: 60_000 }, async () => {
  const demo = await startDemo();
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
  try {
    const failed = [];
    const errors = [];
    const open = async () => {
      const page = await browser.newPage(); // each page its own context: separate localStorage
      page.on('response', (r) => {
        if (r.status() >= 400) failed.push(`${r.status()} ${r.url()}`);
      });
      page.on('pageerror', (err) => errors.push(err.message));
      await page.goto(`${demo.url}/chat.html`, { timeout: 10_000 });
      assert.equal(await page.title(), 'Keel chat');
      await page.locator('#chat-state', { hasText: 'live' }).waitFor({ timeout: 5000 });
      return page;
    };
    const ada = await open();
    const bob = await open();

    await ada.fill('#chat-name', 'Ada');
    await ada.fill('#text', 'Hello from Ada <img src=x onerror=alert(1)>');
    await ada.press('#text', 'Enter');
    for (const page of [ada, bob]) {
      const item = page.locator('#messages li', { hasText: 'Hello from Ada' });
      await item.waitFor({ timeout: 5000 });
      assert.equal(await item.locator('strong').textContent(), 'Ada');
      assert.equal(await item.locator('span').textContent(), 'Hello from Ada <img src=x onerror=alert(1)>');
      assert.equal(await page.locator('#messages img').count(), 0, 'the message was rendered as text');
    }
    assert.equal(await ada.inputValue('#text'), '', 'the input is cleared after sending');

    await bob.fill('#chat-name', 'Bob');
    await bob.fill('#text', 'Hi Ada!');
    await bob.click('#chat-form button[type=submit]');
    await ada.locator('#messages li', { hasText: 'Hi Ada!' }).waitFor({ timeout: 5000 });
    assert.equal(await ada.locator('#messages li').count(), 2);
    assert.equal(await ada.locator('body').evaluate((b) => getComputedStyle(b).maxWidth), '960px', 'style.css applies');

    await ada.screenshot({ path: process.env.KEEL_CHAT_SCREENSHOT ?? '/tmp/keel-chat.png', fullPage: true });
    assert.deepEqual(failed, []);
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    await demo.stop();
  }
});
