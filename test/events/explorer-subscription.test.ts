import { chromium, type Browser } from 'playwright-core';
import { startTestServer, type TestServer } from '../support/test-server';
import { CANCEL, freshMobile, SEND } from '../otp/otp-helpers';

/** The explorer page runs subscriptions (GraphiQL's graphql-ws fetcher on the same /graphql path, the key from its form in connectionParams). */

let t: TestServer;
let browser: Browser;
beforeAll(async () => {
  t = await startTestServer('events_explorer');
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'],
  });
});
afterAll(async () => {
  await browser?.close();
  await t?.close();
});

test('a person enters a key and a subscription into the explorer, runs it, and sees the OTP change live', async () => {
  const sent = await t.gql(SEND, { input: { mobileNo: freshMobile(), channels: ['SMS'], source: 'explorer', type: 'simple_otp' } });
  const id: string = sent.body.data.sendOtp.otpRequest.id;
  const context = await browser.newContext();
  const page = await context.newPage();
  const pageErrors: string[] = [];
  page.on('pageerror', (error) => pageErrors.push(error.message));
  const sockets: string[] = [];
  page.on('websocket', (ws) => sockets.push(ws.url()));
  await page.goto(t.app.graphqlUrl);
  await page.locator('#key-form').waitFor({ state: 'visible', timeout: 30000 });
  await page.fill('#api-key', t.adminKey);
  await page.click('#key-form button[type=submit]');
  await page.waitForSelector('.graphiql-container', { timeout: 30000 });

  await page.locator('.graphiql-tab-add').click(); // a new tab (it gets the key in its Headers too)
  await page.locator('.graphiql-query-editor .CodeMirror').click();
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Delete');
  await page.keyboard.insertText(`subscription OtpRequestUpdated { otpRequestUpdated(id: "${id}") { id status } }`);
  // GraphiQL takes the operation name from the editor a moment after typing; the tab's title shows when it has
  await page.locator('.graphiql-tab-active', { hasText: 'OtpRequestUpdated' }).waitFor({ timeout: 10000 });
  await page.locator('.graphiql-execute-button').click();

  const result = page.locator('.result-window');
  await result.getByText('"PENDING"').waitFor({ timeout: 15000 }).catch(async (error) => {
    throw new Error(`${error.message}\nresult: ${await result.innerText()}\npage errors: ${pageErrors.join('; ')}`);
  });
  expect((await t.gql(CANCEL, { id })).body.data.cancelOtp.userErrors).toEqual([]);
  await result.getByText('"CANCELED"').waitFor({ timeout: 30000 });
  expect(sockets).toEqual([`${t.url.replace(/^http/, 'ws')}/graphql`]);
  expect(pageErrors).toEqual([]);
  await context.close();
});
