// The CPU backend's two builds and how the page picks one (www/boot.js): threaded where the page
// is cross-origin isolated (the server's COOP/COEP headers, or www/sw.js on a static host that
// sends none) and WebGPU is missing; single-threaded otherwise. The badge says which, and both
// carry wasm SIMD (the module check is simd.test.mjs; the scores, demo.test.mjs).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { serveStatic, launchChromium, watchCsp } from './harness.mjs';
import { startHfServer } from './hf_server.mjs';

const ROOT = resolve(import.meta.dirname, '..', '..');
const MAX_THREADS = 16; // CpuSetup::MAX_THREADS

let plain;
let isolated;
before(async () => {
  plain = await serveStatic();
  isolated = await serveStatic(undefined, { isolated: true });
});
after(async () => { await plain?.close(); await isolated?.close(); });

/** Opens `url` in a fresh profile and waits for the device; returns what the page says. */
async function device(url, { webgpu = false, serviceWorkers = 'block', context = null } = {}) {
  const own = !context;
  context ??= await launchChromium({ webgpu, serviceWorkers });
  await watchCsp(context);
  const page = await context.newPage();
  const errors = [];
  const logs = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => logs.push(m.text()));
  try {
    await page.goto(url);
    await page.waitForSelector('body[data-state="ready"], body[data-state="error"]', { timeout: 180_000 });
    const said = {
      state: await page.getAttribute('body', 'data-state'),
      status: await page.textContent('#status'),
      build: await page.getAttribute('html', 'data-build'),
      badge: (await page.textContent('#backend')).trim(),
      threads: await page.getAttribute('#backend', 'data-threads'),
      simd: await page.getAttribute('#backend', 'data-simd'),
      isolated: await page.evaluate(() => self.crossOriginIsolated),
      cores: await page.evaluate(() => navigator.hardwareConcurrency),
      csp: await page.evaluate(() => window.__cspViolations),
      errors,
      page,
    };
    assert.equal(said.state, 'ready', `status: ${said.status}; errors: ${errors}`);
    // The device's first computation (on the pool's threads in the threaded build) is right.
    assert.ok(
      logs.some((l) => l.includes('computed [[1,2],[3,4]] · [[5,6],[7,8]] = [19.0, 22.0, 43.0, 50.0]')),
      `the smoke product is on the console: ${logs.join(' | ')}`,
    );
    assert.deepEqual(said.csp, []);
    assert.deepEqual(errors, []);
    return said;
  } finally {
    if (own) await context.close();
  }
}

test('cross-origin isolated without WebGPU: the threaded build, "CPU · N threads · SIMD"', async () => {
  const said = await device(isolated.url);
  const threads = Math.min(said.cores, MAX_THREADS);
  assert.equal(said.isolated, true);
  assert.equal(said.build, 'threads');
  assert.equal(said.badge, `CPU · ${threads} threads · SIMD`);
  assert.equal(said.threads, String(threads));
  assert.equal(said.simd, 'true');
  console.log(`isolated, no WebGPU: "${said.badge}" (${said.cores} logical cores)`);

  const one = await device(`${isolated.url}?threads=1`);
  assert.equal(one.badge, 'CPU · 1 thread · SIMD');
  const off = await device(`${isolated.url}?threads=0`);
  assert.equal(off.build, 'single');
  assert.equal(off.badge, 'CPU · SIMD');
});

test('not isolated (no headers, no service worker): the single-threaded build, "CPU · SIMD"', async () => {
  const said = await device(plain.url);
  assert.equal(said.isolated, false);
  assert.equal(said.build, 'single');
  assert.equal(said.badge, 'CPU · SIMD');
  assert.equal(said.threads, '1');
  assert.equal(said.simd, 'true');
});

test("the model worker runs the page's compiled module: each build's wasm is downloaded once", async () => {
  for (const [site, wasm] of [[plain, '/leakscope_bg.wasm'], [isolated, '/threads/leakscope_bg.wasm']]) {
    const before = site.seen().length;
    await device(site.url);
    const asked = site.seen().slice(before);
    assert.deepEqual(asked.filter((p) => p.endsWith('.wasm')), [wasm], `requests: ${asked.join(' ')}`);
  }
});

test('a static host without headers: sw.js isolates the page after one reload, then threads', async () => {
  const context = await launchChromium({ webgpu: false, serviceWorkers: 'allow' });
  try {
    const first = await device(plain.url, { context });
    assert.equal(first.isolated, true, 'isolated by the service worker');
    assert.equal(first.build, 'threads');
    assert.match(first.badge, /^CPU · \d+ threads? · SIMD$/);
    // The next visit is controlled from the start: no reload, isolated at once.
    const page = await context.newPage();
    await page.goto(plain.url);
    await page.waitForSelector('body[data-state="ready"]', { timeout: 180_000 });
    assert.equal(await page.evaluate(() => self.crossOriginIsolated), true);
    assert.equal(await page.evaluate(() => performance.getEntriesByType('navigation')[0].type), 'navigate');
    console.log(`static host, service worker: "${first.badge}"`);
  } finally {
    await context.close();
  }
});

test('isolated with WebGPU: the single-threaded build on WebGPU (the threaded one has no GPU backend)', async () => {
  const said = await device(isolated.url, { webgpu: true });
  assert.equal(said.isolated, true);
  assert.equal(said.build, 'single');
  assert.match(said.badge, /^WebGPU/);
  const cpu = await device(`${isolated.url}?cpu`, { webgpu: true });
  assert.equal(cpu.build, 'threads');
  assert.match(cpu.badge, /^CPU · \d+ threads? · SIMD$/);
});

test('under COEP require-corp the model downloads from a cross-origin hub (CORS) and scores', async () => {
  const folder = resolve(ROOT, 'tests/fixtures/tiny-clip');
  const hf = await startHfServer({ folder, repo: 'leakscope/tiny-clip-test' });
  const context = await launchChromium({ webgpu: false });
  try {
    const said = await device(`${isolated.url}?hub=${encodeURIComponent(hf.endpoint)}&model=${hf.repo}`, { context });
    assert.equal(said.build, 'threads');
    await said.page.waitForSelector('body[data-model="ready"], body[data-model="error"]', { timeout: 600_000 });
    assert.equal(await said.page.getAttribute('body', 'data-model'), 'ready', await said.page.textContent('#model-status'));
    await said.page.waitForFunction(() => Number(document.querySelector('#demo').dataset.scored ?? 0) > 0, null, { timeout: 600_000 });
    assert.ok(hf.seenFor('model.safetensors').some((r) => r.status === 200 || r.status === 206));
    // The relevance overlay is drawn: ImageData takes a copy, never a view of the shared
    // memory, which it refuses.
    await said.page.waitForSelector('#demo-overlay[data-ms]', { state: 'attached', timeout: 120_000 });
    // The weights went into the Cache API (the Blob is built from copies, not shared views): a
    // reload loads the model without asking the hub for them again.
    const before = hf.seenFor('model.safetensors').length;
    await said.page.reload();
    await said.page.waitForSelector('body[data-model="ready"], body[data-model="error"]', { timeout: 600_000 });
    assert.equal(await said.page.getAttribute('body', 'data-model'), 'ready', await said.page.textContent('#model-status'));
    assert.equal(hf.seenFor('model.safetensors').length, before, 'the weights came from the cache');
    assert.equal(await said.page.getAttribute('html', 'data-build'), 'threads');
    assert.deepEqual(said.errors, []);
  } finally {
    await context.close();
    await hf.close();
  }
});
