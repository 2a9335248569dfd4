// The first page, as a person sees it: it says which backend runs and shows a result computed
// on that backend. Run twice: with --enable-unsafe-webgpu (WebGPU) and without it (CPU).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { serveStatic, launchChromium, screenshot } from './harness.mjs';

let server;
before(async () => { server = await serveStatic(); });
after(async () => { await server?.close(); });

async function openPage(webgpu) {
  const browser = await launchChromium({ webgpu });
  const page = browser.pages()[0] ?? await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(server.url);
  await page.waitForSelector('body[data-state="ready"], body[data-state="error"]', { timeout: 120_000 });
  return { browser, page, errors };
}

for (const webgpu of [true, false]) {
  const label = webgpu ? 'WebGPU' : 'CPU';
  test(`page shows the ${label} badge and a result computed there`, async () => {
    const { browser, page, errors } = await openPage(webgpu);
    try {
      const shot = await screenshot(page, `first-page-${label.toLowerCase()}`);
      const state = await page.getAttribute('body', 'data-state');
      assert.equal(state, 'ready', `page state (status: ${await page.textContent('#status')}; errors: ${errors})`);
      const backend = await page.getAttribute('#backend', 'data-backend');
      const badge = await page.textContent('#backend');
      assert.equal(backend, webgpu ? 'webgpu' : 'flex', `badge says "${badge}"`);
      assert.match(badge, webgpu ? /^WebGPU/ : /^CPU/);
      assert.equal(await page.textContent('#result'), '[[1,2],[3,4]] · [[5,6],[7,8]] = [[19, 22], [43, 50]]');
      assert.deepEqual(errors, []);
      console.log(`${label}: badge "${badge}", screenshot ${shot}`);
    } finally {
      await browser.close();
    }
  });
}
