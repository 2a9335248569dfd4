// The first page, as a person sees it: it says which backend runs, the demo comes first, and the
// device's first computation goes to the console (for developers), not the page. Run twice:
// with --enable-unsafe-webgpu (WebGPU) and without it (CPU).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { serveStatic, launchChromium, screenshot } from './harness.mjs';

let server;
before(async () => { server = await serveStatic(); });
after(async () => { await server?.close(); });

async function openPage(webgpu, query = '') {
  const browser = await launchChromium({ webgpu });
  const page = browser.pages()[0] ?? await browser.newPage();
  const errors = [];
  const logs = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => logs.push(m.text()));
  await page.goto(server.url + query);
  await page.waitForSelector('body[data-state="ready"], body[data-state="error"]', { timeout: 120_000 });
  return { browser, page, errors, logs };
}

for (const webgpu of [true, false]) {
  const label = webgpu ? 'WebGPU' : 'CPU';
  test(`page shows the ${label} badge, the demo first, and the device's check on the console`, async () => {
    const { browser, page, errors, logs } = await openPage(webgpu);
    try {
      const shot = await screenshot(page, `first-page-${label.toLowerCase()}`);
      const state = await page.getAttribute('body', 'data-state');
      assert.equal(state, 'ready', `page state (status: ${await page.textContent('#status')}; errors: ${errors})`);
      const backend = await page.getAttribute('#backend', 'data-backend');
      const badge = await page.textContent('#backend');
      assert.equal(backend, webgpu ? 'webgpu' : 'flex', `badge says "${badge}"`);
      assert.match(badge, webgpu ? /^WebGPU/ : /^CPU/);
      assert.ok(
        logs.some((l) => l.includes('computed [[1,2],[3,4]] · [[5,6],[7,8]] = [19.0, 22.0, 43.0, 50.0]')),
        `the smoke product is on the console: ${logs.join(' | ')}`,
      );
      // For visitors: the demo is the first card after the badge, and no developer section.
      const cards = await page.$$eval('main > section', (s) => s.map((e) => e.id || e.className));
      assert.equal(cards[1], 'demo', `cards: ${cards}`);
      assert.equal(await page.$('#result'), null);
      // f16 by default where the adapter has shader-f16; SwiftShader has not, so it says so.
      const f16 = webgpu && await page.evaluate(async () =>
        (await navigator.gpu.requestAdapter())?.features.has('shader-f16') ?? false);
      const precision = await page.getAttribute('#backend', 'data-precision');
      const note = await page.textContent('#backend-note');
      assert.equal(precision, f16 ? 'f16' : 'f32', `badge "${badge}", note "${note}"`);
      if (webgpu && !f16) assert.match(note, /computing in f32: this adapter has no shader-f16/);
      if (!webgpu) assert.doesNotMatch(note, /shader-f16/);
      assert.deepEqual(errors, []);
      console.log(`${label}: badge "${badge}" (${precision}; note "${note}"), screenshot ${shot}`);
    } finally {
      await browser.close();
    }
  });
}

test('?precision=f32 asks for f32 (no f16 note); a bad value is named and ignored', async () => {
  for (const [query, expected] of [['?precision=f32', null], ['?precision=bf16', /\?precision= ignored: unknown precision "bf16": use f32 or f16/]]) {
    const { browser, page, errors } = await openPage(true, query);
    try {
      assert.equal(await page.getAttribute('body', 'data-state'), 'ready');
      const note = await page.textContent('#backend-note');
      if (query.endsWith('f32')) {
        assert.equal(await page.getAttribute('#backend', 'data-precision'), 'f32');
        assert.doesNotMatch(note, /shader-f16/, `${query}: note "${note}"`);
      } else {
        assert.match(note, expected, `${query}: note "${note}"`);
      }
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
    }
  }
});

test('?tokenizer= picks the tokenizer mode; the ready line and the model card say which', async () => {
  for (const [query, mode] of [['?cpu&model=test', 'hub'], ['?cpu&model=test&tokenizer=original', 'original']]) {
    const { browser, page, errors } = await openPage(false, query);
    try {
      await page.waitForSelector('body[data-model="ready"]', { timeout: 120_000 });
      assert.equal(await page.getAttribute('#model-status', 'data-tokenizer'), mode);
      assert.match(await page.textContent('#model-status'), new RegExp(`\\(tokenizer: ${mode}\\)`));
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
    }
  }
  const { browser, page } = await openPage(false, '?cpu&model=test&tokenizer=slow');
  try {
    await page.waitForSelector('body[data-model="ready"]', { timeout: 120_000 });
    assert.equal(await page.getAttribute('#model-status', 'data-tokenizer'), 'hub');
    assert.match(await page.textContent('#model-storage'), /\?tokenizer= ignored/);
  } finally {
    await browser.close();
  }
});
