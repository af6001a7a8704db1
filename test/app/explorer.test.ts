import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser } from 'playwright-core';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { startTestServer, type TestServer } from '../support/test-server';
import { EXAMPLE_OPERATIONS } from '../../src/app/explorer-examples';
import { EXPLORER_KEY_STORAGE } from '../../src/app/explorer';

const PACKAGE_VERSION = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')).version;
const STACK = /\bat .+\.(js|ts):\d+|stacktrace|node_modules/i;

let t: TestServer;
let browser: Browser;
beforeAll(async () => {
  t = await startTestServer('explorer');
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'],
  });
});
afterAll(async () => {
  await browser?.close();
  await t.close();
});

test('GET /graphql from a browser serves the explorer page, not JSON, without a token', async () => {
  const res = await fetch(t.app.graphqlUrl, { headers: { accept: 'text/html,application/xhtml+xml' } });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/text\/html/);
  const html = await res.text();
  expect(html).toContain('/explorer/assets/graphiql.js');
  expect(html).not.toMatch(/https?:\/\/(?!localhost|127\.0\.0\.1)/);
  expect(html).toContain(`<meta name="countersign-version" content="${PACKAGE_VERSION}">`);
});

describe('a newcomer, first minute: opens the explorer offline with no key, gives one, runs an example', () => {
  test('the page asks for a key, refuses a wrong one without a stack, then docs, autocompletion and an example work at once', async () => {
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    const page = await context.newPage();
    const origin = new URL(t.app.url);
    const blocked: string[] = [];
    await page.route('**/*', (route) => {
      const url = new URL(route.request().url());
      if (url.hostname === origin.hostname && url.port === origin.port) return route.continue();
      blocked.push(url.toString());
      return route.abort();
    });
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    const stored = (name: string) => page.evaluate((n) => (globalThis as any).localStorage.getItem(n) as string | null, name);
    const unauthenticated: string[] = [];
    page.on('response', async (response) => { if (response.status() === 401) unauthenticated.push(await response.text()); });

    await page.goto(t.app.graphqlUrl);
    // no key stored: a small form, not GraphiQL and not an UNAUTHENTICATED error
    await page.locator('#key-form').waitFor({ state: 'visible', timeout: 30000 });
    expect(await page.locator('.graphiql-container').count()).toBe(0);
    expect(await page.locator('#version').innerText()).toBe(`version ${PACKAGE_VERSION}`);
    expect(unauthenticated).toEqual([]);
    const screenshots = process.env.EXPLORER_SCREENSHOT ? dirname(process.env.EXPLORER_SCREENSHOT) : mkdtempSync(join(tmpdir(), 'countersign-explorer-'));
    await page.screenshot({ path: join(screenshots, 'explorer-key-form.png') });

    await page.fill('#api-key', 'cs_00000000_not-a-real-key-at-all-0000000000000');
    await page.click('#key-form button[type=submit]');
    await page.locator('#key-problem').getByText('UNAUTHENTICATED').waitFor({ timeout: 10000 });
    expect(await page.locator('#key-problem').innerText()).not.toMatch(STACK);
    expect(await stored(EXPLORER_KEY_STORAGE)).toBeNull();

    await page.fill('#api-key', t.adminKey);
    await page.click('#key-form button[type=submit]');
    await page.waitForSelector('.graphiql-container', { timeout: 30000 });
    expect(await page.locator('#who').innerText()).toBe('Signed in as admin@countersign.local (ADMIN)');
    expect(await stored(EXPLORER_KEY_STORAGE)).toBe(t.adminKey);
    expect(await page.locator('.graphiql-tab').count()).toBe(EXAMPLE_OPERATIONS.length);

    // the key is in the Headers of the tab
    await page.getByRole('button', { name: 'Headers' }).click();
    const headers = page.locator('.graphiql-editor-tool .graphiql-editor').last();
    await headers.getByText(`Bearer ${t.adminKey}`).waitFor({ timeout: 10000 });

    // the schema was introspected with the key: the docs list the root fields
    await page.locator('[aria-label="Show Documentation Explorer"]').click();
    await page.locator('.graphiql-doc-explorer').getByText('Query', { exact: true }).click();
    await page.locator('.graphiql-doc-explorer').getByText('otpRequests', { exact: true }).first().waitFor({ timeout: 10000 });

    // autocompletion knows the schema: in a new tab, "{ modu" and Ctrl+Space complete to the one field it can be
    await page.locator('.graphiql-tab-add').click();
    await page.locator('.graphiql-query-editor .CodeMirror').click();
    await page.keyboard.press('Control+A');
    await page.keyboard.press('Delete');
    await page.keyboard.type('{ modu');
    await page.keyboard.press('Control+Space');
    await page.locator('.graphiql-query-editor .CodeMirror-line').getByText('modules', { exact: true }).waitFor({ timeout: 10000 });

    // back to the first example tab and run it as shown
    await page.locator('.graphiql-tab').first().click();
    await page.locator('.graphiql-execute-button').click();
    const result = page.locator('.result-window');
    await result.getByText('admin@countersign.local').waitFor({ timeout: 30000 });
    const text = await result.innerText();
    expect(text).toContain('"ADMIN"');
    expect(text).toContain('"name": "Leads"'); // the pane shows the lines in view only
    expect(text).not.toContain('errors');

    const screenshot = process.env.EXPLORER_SCREENSHOT ?? join(screenshots, 'explorer.png');
    await page.screenshot({ path: screenshot });
    expect(statSync(screenshot).size).toBeGreaterThan(10_000);

    // a reload remembers the key: straight to GraphiQL
    await page.reload();
    await page.waitForSelector('.graphiql-container', { timeout: 30000 });
    expect(await page.locator('#key-form').isVisible()).toBe(false);

    // "Change key": another user's key replaces the old one in the Headers and in storage
    const other = await t.keyFor('READONLY');
    await page.click('#change-key');
    await page.fill('#api-key', other.key);
    await page.click('#key-form button[type=submit]');
    await page.locator('#who').getByText('(READONLY)').waitFor({ timeout: 10000 });
    expect(await stored(EXPLORER_KEY_STORAGE)).toBe(other.key);
    const tabHeaders = JSON.parse((await stored('graphiql:tabState')) ?? '{}').tabs.map((tab: { headers: string }) => tab.headers);
    expect(tabHeaders.join('\n')).not.toContain(t.adminKey);
    expect(tabHeaders.every((h: string) => h.includes(other.key))).toBe(true);

    expect(unauthenticated.length).toBe(1); // the wrong key only
    expect(blocked).toEqual([]);
    expect(pageErrors).toEqual([]);
    await context.close();
  });
});

describe('attacker: frames the explorer (which keeps the pasted key in local storage) inside their own page', () => {
  test('the browser refuses to show the explorer in a frame of another site', async () => {
    // another origin on the same machine (a public origin would be stopped by Chromium's private-network rules anyway)
    const attacker = createServer((_req, res) => {
      res.setHeader('content-type', 'text/html');
      res.end(`<!doctype html><title>Win a prize</title><iframe src="${t.app.url}/explorer" width="800" height="600"></iframe>`);
    });
    await new Promise<void>((resolve) => attacker.listen(0, '127.0.0.1', resolve));
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(`http://127.0.0.1:${(attacker.address() as AddressInfo).port}/`, { waitUntil: 'load' }); // 'load' waits for the iframe too
      const framed = page.frames().find((frame) => frame !== page.mainFrame())!;
      expect(framed.url()).not.toContain('/explorer');
      expect(await framed.locator('#explorer').count()).toBe(0);
    } finally {
      await context.close();
      await new Promise((resolve) => attacker.close(resolve));
    }
  });
});
