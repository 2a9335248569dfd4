// The first visit with precomputed results: `leakscope bake` on the test model writes baked/
// into a copy of the page; the gallery shows the baked readings before any weight arrives
// (labelled with the model they come from), the overlay drawn from them; loading the same
// checkpoint takes the baked concept embeddings and scores live exactly as baked; a bundle for
// another checkpoint or head is ignored with a note, never trusted.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { cp, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { DIST, serveStatic, launchChromium, screenshot } from './harness.mjs';

const ROOT = resolve(import.meta.dirname, '..', '..');
const CLI = resolve(ROOT, 'target/debug/leakscope');
const TIMEOUT = 300_000;

let site;
let root;
let bundle;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'leakscope-baked-'));
  await cp(DIST, root, { recursive: true });
  await promisify(execFile)(CLI, [
    'bake', '--model', resolve(ROOT, 'tests/fixtures/tiny-clip'), '--repo', 'leakscope/tiny-clip-test',
    '--gallery', resolve(ROOT, 'www/gallery'), '--out', join(root, 'baked'),
  ]);
  bundle = JSON.parse(await readFile(join(root, 'baked', 'manifest.json'), 'utf8'));
  site = await serveStatic(root);
});
after(async () => { await site?.close(); });

const p = (page, which) => page.getAttribute(`#value-${which}`, 'data-p').then(Number);

test('baked readings show before any weight, then the same checkpoint scores live from the baked concepts', async () => {
  const context = await launchChromium({ webgpu: false });
  try {
    const page = await context.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    const opened = Date.now();
    await page.goto(`${site.url}?cpu`);
    await page.waitForSelector('#demo[data-source="baked"]', { timeout: TIMEOUT });
    const shownAfter = (Date.now() - opened) / 1000;
    const first = bundle.samples[0];
    assert.equal(await page.getAttribute('#demo', 'data-baked'), first.id);
    assert.equal(await page.getAttribute('body', 'data-model'), null, 'no model was loaded');
    assert.ok(Math.abs(await p(page, 'text') - first.reading.score.text.p_unsafe) < 1e-6);
    assert.ok(Math.abs(await p(page, 'pair') - first.reading.score.pair.p_unsafe) < 1e-6);
    assert.match(await page.textContent('#demo-source'), /Computed ahead of time with leakscope\/tiny-clip-test \(weights sha256 [0-9a-f]{12}…\)/);
    await page.waitForSelector('#demo-heat:not([disabled])', { timeout: TIMEOUT });
    assert.ok((await page.textContent('#demo-words')).length > 0, 'the attribution is shown');
    const shot = await screenshot(page, 'baked-first-visit');

    // The same checkpoint: the baked concepts are taken, and live scores equal the baked ones.
    await page.selectOption('#model-source', 'test');
    await page.click('#model-load');
    await page.waitForSelector('body[data-model="ready"]', { timeout: TIMEOUT });
    assert.equal(await page.getAttribute('#model-status', 'data-concepts'), 'baked');
    await page.waitForSelector('#demo[data-source="live"]', { timeout: TIMEOUT });
    let worst = 0;
    for (const which of ['text', 'image', 'pair']) {
      const want = first.reading.score[which].p_unsafe;
      worst = Math.max(worst, Math.abs(await p(page, which) - want));
    }
    assert.ok(worst <= 1e-4, `live vs baked: ${worst}`);
    assert.deepEqual(errors, []);
    console.log(`baked gallery reading on screen ${shownAfter.toFixed(2)} s after page open (no weights); live from the baked concepts within ${worst.toExponential(1)}; screenshot ${shot}`);
  } finally {
    await context.close();
  }
});

test('a bundle for another checkpoint or head is ignored with a note; none at all is fine', async () => {
  const manifest = join(root, 'baked', 'manifest.json');
  const original = await readFile(manifest, 'utf8');
  const context = await launchChromium({ webgpu: false });
  try {
    // Another checkpoint: the readings are shown as that model's, but not used for this one.
    await writeFile(manifest, JSON.stringify({ ...bundle, model: { ...bundle.model, weights_sha256: '0'.repeat(64) } }));
    const page = await context.newPage();
    await page.goto(`${site.url}?cpu&model=test`);
    await page.waitForSelector('body[data-model="ready"]', { timeout: TIMEOUT });
    assert.notEqual(await page.getAttribute('#model-status', 'data-concepts'), 'baked');
    assert.match(await page.textContent('#model-storage'), /Precomputed results not used: the precomputed results are for another checkpoint/);
    await page.close();

    // Another head: not even shown.
    await writeFile(manifest, JSON.stringify({ ...bundle, head_sha256: 'f'.repeat(64) }));
    const other = await context.newPage();
    await other.goto(`${site.url}?cpu`);
    await other.waitForFunction(() => /another guard head/.test(document.querySelector('#demo-source').textContent), null, { timeout: TIMEOUT });
    assert.equal(await other.getAttribute('#demo', 'data-source'), null);
    await other.close();

    // No bundle (the plain page): it says to load a model.
    const plain = await serveStatic();
    try {
      const bare = await context.newPage();
      await bare.goto(`${plain.url}?cpu`);
      await bare.waitForFunction(() => /Load a model to score/.test(document.querySelector('#demo-source').textContent), null, { timeout: TIMEOUT });
    } finally {
      await plain.close();
    }
  } finally {
    await writeFile(manifest, original);
    await context.close();
  }
});
