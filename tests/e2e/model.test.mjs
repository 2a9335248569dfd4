// Loading a model through the page from a server in Hugging Face's URL layout (`?hub=` names
// the mirror): a connection dropped mid-file resumes with Range; a reload takes every file from
// the browser's model cache without a request; a repository that is not there says so; text
// first, the demo scores text while the server holds the image tower's bytes back.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
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

/** Where the text tower (and logit_scale) of a safetensors file whose tensors are in name order ends. */
async function textTowerEnd(path) {
  const bytes = await readFile(path);
  const n = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + n).toString('utf8'));
  const ends = Object.entries(header)
    .filter(([name]) => /^(text_|logit_scale)/.test(name))
    .map(([, t]) => t.data_offsets[1]);
  return 8 + n + Math.max(...ends);
}

test('text first: the demo scores text while the image tower is held back, then images', async () => {
  const site = await serveStatic();
  const folder = resolve(ROOT, 'tests/fixtures/tiny-clip');
  const hf = await startHfServer({ folder });
  closers.push(() => site.close(), () => hf.close());
  const weights = 'model.safetensors';
  hf.hold(weights, await textTowerEnd(resolve(folder, weights)));
  const context = await launchChromium({ webgpu: false });
  try {
    const page = await context.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    const t0 = Date.now();
    const since = () => ((Date.now() - t0) / 1000).toFixed(1);
    await page.goto(`${site.url}?hub=${encodeURIComponent(hf.endpoint)}&model=${hf.repo}`);
    await page.waitForSelector('body[data-model="text-ready"], body[data-model="ready"], body[data-model="error"]', { timeout: TIMEOUT });
    assert.equal(await page.getAttribute('body', 'data-model'), 'text-ready', await page.textContent('#model-status'));
    const textReady = since();
    // J(T) and the words' attribution, with the image waiting for its tower.
    await page.waitForFunction(() => {
      const demo = document.querySelector('#demo');
      return Number(demo.dataset.scored ?? 0) > 0 && demo.dataset.busy === 'false'
        && document.querySelector('#verdict').dataset.class === 'image-pending';
    }, null, { timeout: TIMEOUT });
    const firstScore = since();
    const textP = Number(await page.getAttribute('#value-text', 'data-p'));
    assert.ok(Number.isFinite(textP) && textP >= 0 && textP <= 1, `J(T) ${textP}`);
    assert.equal(await page.textContent('#value-image'), '…');
    assert.ok(await page.locator('#demo-words span').count() > 0, 'words shaded');
    assert.equal(await page.isVisible('#model-towers'), true);
    assert.match(await page.textContent('#model-text-bytes'), /^in /);
    assert.match(await page.textContent('#model-status'), /text tower in, image tower/);
    const held = hf.seenFor(weights);
    assert.ok(held.some((r) => r.held && r.sent === 0), `the vision bytes are held: ${JSON.stringify(held)}`);
    // An image chosen now waits for the image tower; the text is scored again meanwhile.
    const scored = Number(await page.getAttribute('#demo', 'data-scored'));
    await page.setInputFiles('#demo-upload', resolve(folder, 'images/shapes_150x200.png'));
    await page.waitForFunction((n) => Number(document.querySelector('#demo').dataset.scored) > n
      && document.querySelector('#demo').dataset.busy === 'false', scored, { timeout: TIMEOUT });
    assert.equal(await page.getAttribute('#verdict', 'data-class'), 'image-pending');
    await screenshot(page, 'model-text-first');

    const released = since();
    hf.release(weights);
    await page.waitForSelector('body[data-model="ready"], body[data-model="error"]', { timeout: TIMEOUT });
    assert.equal(await page.getAttribute('body', 'data-model'), 'ready', await page.textContent('#model-status'));
    const ready = since();
    // The image that waited is scored, with its overlay.
    await page.waitForFunction(() => {
      const out = document.querySelector('#value-image');
      return out.dataset.p !== '' && document.querySelector('#verdict').dataset.class !== 'image-pending'
        && document.querySelector('#demo').dataset.busy === 'false';
    }, null, { timeout: TIMEOUT });
    await page.waitForSelector('#demo-heat:not([disabled])', { timeout: TIMEOUT });
    assert.equal(await page.getAttribute('#demo-overlay', 'width'), '150');
    const imageP = Number(await page.getAttribute('#value-image', 'data-p'));
    assert.ok(Number.isFinite(imageP), `image score ${imageP}`);
    assert.equal(Number(await page.getAttribute('#value-text', 'data-p')), textP, 'the same J(T) after the image tower came');
    assert.equal(await page.isVisible('#model-towers'), false);
    const requests = hf.seenFor(weights);
    assert.equal(requests.length, 1, JSON.stringify(requests));
    assert.equal(requests[0].range, 'bytes=0-');
    assert.deepEqual(errors, []);
    console.log(`text first (CPU): page open → text ready ${textReady} s, first J(T) ${firstScore} s; vision bytes released at ${released} s → ready ${ready} s; J(T) ${textP.toFixed(4)}, image ${imageP.toFixed(4)}`);
  } finally {
    await context.close();
  }
});
