// Loading a model through the page from a server in Hugging Face's URL layout (`?hub=` names
// the mirror): a connection dropped mid-file resumes with Range; a reload takes every file from
// the browser's model cache without a request; a repository that is not there says so.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { serveStatic, launchChromium, screenshot } from './harness.mjs';
import { startHfServer } from './hf_server.mjs';

const ROOT = resolve(import.meta.dirname, '..', '..');
const TIMEOUT = 600_000;
const closers = [];
after(async () => { for (const close of closers) await close(); });

async function load(context, site, hf, repo) {
  const page = await context.newPage();
  await page.goto(`${site.url}?hub=${encodeURIComponent(hf.endpoint)}&model=${repo}`);
  await page.waitForSelector('body[data-model="ready"], body[data-model="error"]', { timeout: TIMEOUT });
  return page;
}

test('the page downloads from an HF-layout server, resumes a dropped file, then loads from its cache', async () => {
  const site = await serveStatic();
  const hf = await startHfServer({ folder: resolve(ROOT, 'tests/fixtures/tiny-clip') });
  closers.push(() => site.close(), () => hf.close());
  hf.fault('model.safetensors', { type: 'drop', after: 400_000 });
  const context = await launchChromium({ webgpu: false });
  try {
    const page = await load(context, site, hf, hf.repo);
    assert.equal(await page.getAttribute('body', 'data-model'), 'ready', await page.textContent('#model-status'));
    assert.equal(await page.getAttribute('#model-status', 'data-from-cache'), 'false');
    const ranges = hf.seenFor('model.safetensors').map((r) => r.range ?? null);
    assert.ok(ranges.some((r) => r && /^bytes=400000-/.test(r)), `Range resume requested: ${JSON.stringify(ranges)}`);
    const shot = await screenshot(page, 'model-loaded');
    await page.close();

    const before = hf.seen().length;
    const again = await load(context, site, hf, hf.repo);
    assert.equal(await again.getAttribute('body', 'data-model'), 'ready');
    assert.equal(await again.getAttribute('#model-status', 'data-from-cache'), 'true');
    assert.equal(await again.getAttribute('#model-status', 'data-concepts-cached'), 'true');
    assert.equal(hf.seen().length, before, 'the reload sends no request to the model server');
    assert.match(await again.textContent('#model-storage'), /model cache/);
    console.log(`dropped at 400000 bytes, resumed with ${ranges.filter(Boolean).join(', ')}; reload: no request, prepared in ${await again.getAttribute('#model-status', 'data-prepare-ms')} ms; ${shot}`);
  } finally {
    await context.close();
  }
});

test('a repository the server does not have gets a message that says what to check', async () => {
  const site = await serveStatic();
  const hf = await startHfServer({ folder: resolve(ROOT, 'tests/fixtures/tiny-clip') });
  closers.push(() => site.close(), () => hf.close());
  const context = await launchChromium({ webgpu: false });
  try {
    const page = await load(context, site, hf, 'nobody/not-there');
    assert.equal(await page.getAttribute('body', 'data-model'), 'error');
    const message = await page.textContent('#model-status');
    assert.match(message, /not-there/);
    await screenshot(page, 'model-not-found');
    console.log(`missing repository: “${message.trim()}”`);
  } finally {
    await context.close();
  }
});
