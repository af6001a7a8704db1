import { chromium, type Browser } from 'playwright-core';
import { startTestServer, type TestServer } from '../support/test-server';
import { CANCEL, freshMobile, SEND } from '../otp/otp-helpers';

/** The explorer page runs subscriptions (GraphiQL's graphql-ws fetcher on the same /graphql path, key from the headers editor). */

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

test('a person pastes a key and a subscription into the explorer, runs it, and sees the OTP change live', async () => {
  const sent = await t.gql(SEND, { input: { mobileNo: freshMobile(), channels: ['SMS'], source: 'explorer', type: 'simple_otp' } });
  const id: string = sent.body.data.sendOtp.otpRequest.id;
  const context = await browser.newContext();
  const page = await context.newPage();
  const pageErrors: string[] = [];
  page.on('pageerror', (error) => pageErrors.push(error.message));
  const sockets: string[] = [];
  page.on('websocket', (ws) => sockets.push(ws.url()));
  await page.goto(t.app.graphqlUrl);
  await page.waitForSelector('.graphiql-container', { timeout: 30000 });

  await page.locator('.graphiql-tab', { hasText: 'OtpRequestUpdated' }).click(); // the README's example tab
  const headerEditor = page.locator('.graphiql-editor-tool .graphiql-editor').last();
  await headerEditor.click();
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Delete');
  await page.keyboard.insertText(JSON.stringify({ Authorization: `Bearer ${t.adminKey}` }));

  await page.locator('.graphiql-query-editor .CodeMirror').first().click();
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Delete');
  await page.keyboard.insertText(`subscription OtpRequestUpdated { otpRequestUpdated(id: "${id}") { id status } }`);
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
