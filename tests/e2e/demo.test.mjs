// The leakage demo as a person uses it, with the tiny test checkpoint the page serves itself in
// Hugging Face's URL layout (`?model=test`): the gallery's scores equal the native ones pinned in
// tests/fixtures/guard/gallery.json within 1e-4 on WebGPU and on the CPU fallback; editing the
// query re-scores it and lands in the link; an uploaded image gets scored and its relevance
// overlay drawn; a reload reuses the concept embeddings cached in IndexedDB. The CPU fallback
// runs in both of its builds: single-threaded (the page not cross-origin isolated) and threaded
// (served with COOP/COEP), each with wasm SIMD.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { serveStatic, launchChromium, screenshot, watchCsp } from './harness.mjs';
import { startHfServer } from './hf_server.mjs';

const ROOT = resolve(import.meta.dirname, '..', '..');
const PINNED = JSON.parse(await readFile(resolve(ROOT, 'tests/fixtures/guard/gallery.json'), 'utf8'));
const SAMPLES = JSON.parse(await readFile(resolve(ROOT, 'www/gallery/samples.json'), 'utf8'));
const LOAD_TIMEOUT = 600_000;

let site;
let isolatedSite;
before(async () => {
  site = await serveStatic();
  isolatedSite = await serveStatic(undefined, { isolated: true });
});
after(async () => { await site?.close(); await isolatedSite?.close(); });

async function open(context, query = '?model=test', hash = '', from = site) {
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  const t0 = Date.now();
  await page.goto(`${from.url}${query}${hash}`);
  await page.waitForSelector('body[data-model="ready"], body[data-model="error"]', { timeout: LOAD_TIMEOUT });
  assert.equal(await page.getAttribute('body', 'data-model'), 'ready', await page.textContent('#model-status'));
  const loadSeconds = (Date.now() - t0) / 1000;
  return { page, errors, loadSeconds };
}

/** Waits until the demo has scored (after `previous`) and nothing is in flight. */
async function scored(page, previous = 0) {
  await page.waitForFunction((n) => {
    const demo = document.querySelector('#demo');
    return Number(demo.dataset.scored ?? 0) > n && demo.dataset.busy === 'false';
  }, previous, { timeout: LOAD_TIMEOUT });
  return Number(await page.getAttribute('#demo', 'data-scored'));
}

async function readings(page) {
  const p = async (id) => {
    const v = await page.getAttribute(`#value-${id}`, 'data-p');
    return v === '' || v === null ? null : Number(v);
  };
  return { text_p: await p('text'), image_p: await p('image'), pair_p: await p('pair') };
}

function assertClose(got, want, label) {
  for (const key of ['text_p', 'image_p', 'pair_p']) {
    assert.ok(Math.abs(got[key] - want[key]) <= 1e-4, `${label} ${key}: page ${got[key]} vs native ${want[key]}`);
  }
}

async function checkGallery(page, label) {
  let generation = await scored(page);
  let worst = 0;
  for (const [i, sample] of SAMPLES.entries()) {
    if (i > 0) {
      await page.click(`#gallery button[data-sample="${sample.id}"]`);
      await page.waitForFunction((id) => document.querySelector(`#gallery button[data-sample="${id}"]`).getAttribute('aria-pressed') === 'true', sample.id);
      generation = await scored(page, generation);
    }
    const got = await readings(page);
    assertClose(got, PINNED[i], `${label} ${sample.id}`);
    for (const key of ['text_p', 'image_p', 'pair_p']) worst = Math.max(worst, Math.abs(got[key] - PINNED[i][key]));
    const words = await page.locator('#demo-words span[title]').count();
    assert.equal(words, PINNED[i].attribution.length, 'one shaded span per word');
  }
  return { generation, worst };
}

test('WebGPU: gallery scores equal the native ones, editing, uploading, the overlay, then a reload', async () => {
  const context = await launchChromium({ webgpu: true });
  await watchCsp(context);
  try {
    const { page, errors, loadSeconds } = await open(context);
    assert.match(await page.textContent('#backend'), /^WebGPU/);
    assert.equal(await page.isVisible('#model-warning'), true, 'the test model is labelled as such');
    const firstPrepare = Number(await page.getAttribute('#model-status', 'data-prepare-ms'));
    let { generation, worst } = await checkGallery(page, 'WebGPU');
    await screenshot(page, 'demo-webgpu-gallery');
    // Phone width: one column, nothing wider than the screen.
    await page.setViewportSize({ width: 390, height: 844 });
    assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= 390), 'no horizontal scrolling at 390 px');
    await screenshot(page, 'demo-phone');
    await page.setViewportSize({ width: 1280, height: 720 });

    // Typing re-scores (debounced) and the link carries the text.
    const before = await readings(page);
    await page.fill('#demo-text', 'How do I build a bomb?');
    generation = await scored(page, generation);
    const edited = await readings(page);
    assert.notEqual(edited.text_p, before.text_p);
    assert.match(decodeURIComponent(new URL(page.url()).hash), /text=How\+do\+I\+build\+a\+bomb\?/);
    const timing = await page.textContent('#demo-timing');

    // An own image: scored, overlay drawn by the worker's shader.
    await page.setInputFiles('#demo-upload', resolve(ROOT, 'tests/fixtures/tiny-clip/images/shapes_150x200.png'));
    generation = await scored(page, generation);
    const uploaded = await readings(page);
    assert.notEqual(uploaded.image_p, edited.image_p);
    await page.waitForSelector('#demo-heat:not([disabled])');
    await page.click('#demo-reveal');
    await page.click('#demo-heat');
    assert.equal(await page.getAttribute('#demo-overlay', 'width'), '150');
    await screenshot(page, 'demo-webgpu-upload-overlay');
    assert.deepEqual(await page.evaluate(() => window.__cspViolations), []);
    assert.deepEqual(errors, []);
    const link = page.url();
    await page.close();

    // Reload: concept embeddings come from IndexedDB; the deep link restores the text.
    const hash = new URL(link).hash;
    const again = await open(context, '?model=test', hash);
    assert.equal(await again.page.getAttribute('#model-status', 'data-concepts-cached'), 'true');
    assert.equal(await again.page.getAttribute('#model-status', 'data-from-cache'), 'true', 'the model files come from the cache');
    const secondPrepare = Number(await again.page.getAttribute('#model-status', 'data-prepare-ms'));
    await scored(again.page);
    assert.equal(await again.page.inputValue('#demo-text'), 'How do I build a bomb?');
    console.log(`WebGPU (SwiftShader): page load to ready ${loadSeconds.toFixed(1)} s, first preparation ${(firstPrepare / 1000).toFixed(1)} s, after reload ${(secondPrepare / 1000).toFixed(1)} s (concepts cached); gallery max |page - native| ${worst.toExponential(1)}; ${timing.trim()}`);
  } finally {
    await context.close();
  }
});

for (const build of ['single', 'threads']) {
  test(`without WebGPU the CPU backend gives the same gallery scores (${build === 'threads' ? 'threaded build, page cross-origin isolated' : 'single-threaded build'})`, async () => {
    const context = await launchChromium({ webgpu: false });
    try {
      const { page, errors, loadSeconds } = await open(context, '?model=test', '', build === 'threads' ? isolatedSite : site);
      const badge = await page.textContent('#backend');
      assert.equal(await page.getAttribute('html', 'data-build'), build, `badge "${badge}"`);
      assert.match(badge, build === 'threads' ? /^CPU · \d+ threads? · SIMD$/ : /^CPU · SIMD$/);
      const { worst } = await checkGallery(page, `CPU (${build})`);
      await screenshot(page, `demo-cpu-gallery-${build}`);
      assert.deepEqual(errors, []);
      const prepare = Number(await page.getAttribute('#model-status', 'data-prepare-ms'));
      console.log(`${badge}: page load to ready ${loadSeconds.toFixed(1)} s, preparation ${(prepare / 1000).toFixed(1)} s; gallery max |page - native| ${worst.toExponential(1)}; ${(await page.textContent('#demo-timing')).trim()}`);
    } finally {
      await context.close();
    }
  });
}

test('a VLSBench sample comes from the dataset repo at run time; a missing repo says what to do', async () => {
  const folder = resolve(ROOT, 'tests/fixtures/eval/vlsbench-mini');
  const rows = JSON.parse(await readFile(resolve(folder, 'data.json'), 'utf8'));
  const hf = await startHfServer({ folder, repo: 'datasets/leakscope/vlsbench-mini', listing: false });
  const context = await launchChromium({ webgpu: false });
  await watchCsp(context);
  try {
    const hub = `&hub=${encodeURIComponent(hf.endpoint)}`;
    const { page, errors } = await open(context, `?model=test${hub}&vlsbench=leakscope/vlsbench-mini`);
    let generation = await scored(page);
    const shown = [];
    for (const category of ['', 'Privacy']) {
      if (category) await page.selectOption('#vls-category', category);
      const before = await page.getAttribute('#vls-status', 'data-id');
      await page.click('#vls-load');
      await page.waitForFunction((b) => {
        const s = document.querySelector('#vls-status');
        return s.dataset.state === 'error' || (s.dataset.state === 'shown' && s.dataset.id !== b);
      }, before);
      assert.equal(await page.getAttribute('#vls-status', 'data-state'), 'shown', await page.textContent('#vls-status'));
      generation = await scored(page, generation);
      const id = Number(await page.getAttribute('#vls-status', 'data-id'));
      const row = rows.find((r) => r.instruction_id === id);
      assert.equal(await page.inputValue('#demo-text'), row.instruction);
      if (category) assert.equal(row.category, category);
      const got = await readings(page);
      for (const key of ['text_p', 'image_p', 'pair_p']) assert.ok(got[key] >= 0 && got[key] <= 1, `${key} ${got[key]}`);
      assert.ok(hf.seenFor(row.image_path).some((r) => r.status === 200), `fetched ${row.image_path}`);
      shown.push(`#${id} (${row.category})`);
    }
    assert.equal(hf.seenFor('data.json').length, 1, 'data.json is fetched once per page');
    await screenshot(page, 'demo-vlsbench-sample');
    assert.deepEqual(await page.evaluate(() => window.__cspViolations), []);
    assert.deepEqual(errors, []);

    const missing = await open(context, `?model=test${hub}&vlsbench=leakscope/absent`);
    await scored(missing.page);
    await missing.page.click('#vls-load');
    await missing.page.waitForSelector('#vls-status[data-state="error"]');
    const message = await missing.page.textContent('#vls-status');
    assert.match(message, /accept its conditions|not in/, message);
    assert.match(message, /Measure a whole benchmark/, message);
    console.log(`VLSBench samples from the repo: ${shown.join(', ')}; a missing repo: “${message.trim()}”`);
  } finally {
    await context.close();
    await hf.close();
  }
});
