import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser } from 'playwright-core';
import { startTestServer, type TestServer } from '../support/test-server';

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
});

test('a person opens the explorer offline, pastes an API key into the header editor and runs the example query', async () => {
  const context = await browser.newContext();
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

  await page.goto(t.app.graphqlUrl);
  await page.waitForSelector('.graphiql-container', { timeout: 30000 });
  const tabs = await page.locator('.graphiql-tab').count();
  expect(tabs).toBeGreaterThanOrEqual(3);

  // The header editor is open by default; replace its placeholder with the key.
  const headerEditor = page.locator('.graphiql-editor-tool .graphiql-editor').last();
  await headerEditor.click();
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Delete');
  await page.keyboard.insertText(JSON.stringify({ Authorization: `Bearer ${t.adminKey}` }));

  await page.locator('.graphiql-execute-button').click();
  const result = page.locator('.result-window');
  await result.getByText('admin@countersign.local').waitFor({ timeout: 30000 });
  const text = await result.innerText();
  expect(text).toContain('"ADMIN"');
  if (process.env.EXPLORER_SCREENSHOT) await page.screenshot({ path: process.env.EXPLORER_SCREENSHOT });
  expect(blocked).toEqual([]);
  expect(pageErrors).toEqual([]);
  await context.close();
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
