// "First visit" timelines (`make bench-browser`; BENCHMARKS.md): the release page opened cold
// (fresh profile, empty caches) over Chromium's network emulation, with results baked for the
// model it loads, the model served by a local hub in Hugging Face's layout. From page open:
//   baked  — the first precomputed gallery reading on screen (no weight yet),
//   J(T)   — the first live text-only score,
//   J(T,I) — the first live score of the text with its image.
// Then the same page again in the same profile (the return visit): weights from the Cache API,
// concepts from the bundle; its preparation time (download excluded) is the worker's own.
// For the lite preset's size (TinyCLIP-8M, 94 MB) and ViT-B/32's (605 MB), random weights of
// those shapes (`leakscope bench --write-checkpoint`), on WebGPU (SwiftShader here) and on the
// CPU backend: `cpu` is the single-threaded build (the page not cross-origin isolated),
// `cpu-threads` the threaded one (the page served with COOP/COEP, as sw.js makes it on a static
// host after its one reload). Prints a table and writes target/first-visit.json; asserts
// nothing about time.
//
//   node tests/e2e/first_visit.mjs [--model lite|full|both]
//                                   [--backend webgpu|cpu|cpu-threads|both|all] (default all)
//                                   [--mbit 50] [--latency-ms 20] [--timeout-s 1800]
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { cp, mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { DIST, serveStatic, launchChromium } from './harness.mjs';
import { startHfServer } from './hf_server.mjs';

const ROOT = resolve(import.meta.dirname, '..', '..');
const CLI = process.env.LEAKSCOPE ?? resolve(ROOT, 'target/release/leakscope');
const run = promisify(execFile);

const option = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
};
const both = (v, a, b) => (v === 'both' ? [a, b] : [v]);
const models = both(option('model', 'both'), 'lite', 'full');
const backendOption = option('backend', 'all');
const backends = backendOption === 'all' ? ['webgpu', 'cpu', 'cpu-threads'] : both(backendOption, 'webgpu', 'cpu');
const mbit = Number(option('mbit', '50'));
const latency = Number(option('latency-ms', '20'));
const timeout = Number(option('timeout-s', '1800')) * 1000;

const SHAPES = {
  lite: { config: 'tinyclip-8m', repo: 'bench/tinyclip-8m-shape' },
  full: { config: 'vit-b-32', repo: 'bench/vit-b-32-shape' },
};

async function checkpoint(model) {
  const dir = resolve(ROOT, 'target/bench-models', SHAPES[model].config);
  try {
    await stat(join(dir, 'model.safetensors'));
  } catch {
    await run(CLI, ['bench', '--config', SHAPES[model].config, '--write-checkpoint', dir], { maxBuffer: 1 << 24 });
  }
  return dir;
}

/** A copy of the release page with results baked for `dir`'s checkpoint. */
async function bakedPage(model, dir) {
  const root = await mkdtemp(join(tmpdir(), 'leakscope-first-visit-'));
  await cp(DIST, root, { recursive: true });
  await run(CLI, ['bake', '--model', dir, '--repo', SHAPES[model].repo, '--gallery', resolve(ROOT, 'www/gallery'), '--out', join(root, 'baked')], { maxBuffer: 1 << 24 });
  return root;
}

/** Records, from navigation start, when the page's state attributes change. */
function recordTimeline() {
  window.__timeline = [];
  const note = (what) => window.__timeline.push({ what, ms: performance.now() });
  new MutationObserver((changes) => {
    for (const c of changes) {
      const el = c.target;
      const value = el.getAttribute(c.attributeName);
      note(`${el.id || el.tagName.toLowerCase()}[${c.attributeName}=${value}]`);
    }
  }).observe(document, {
    subtree: true, attributes: true,
    attributeFilter: ['data-source', 'data-model', 'data-state', 'data-scored', 'data-live'],
  });
}

/** Opens `url` in `page` and waits for the first live J(T, I); seconds from page open. */
async function open(page, url) {
  await page.goto(url);
  // Past the timeout the visit still reports what it reached (J(T, I) then stays empty).
  const finished = await page.waitForSelector('#demo[data-live="pair"]', { timeout }).then(() => true, () => false);
  const timeline = await page.evaluate(() => window.__timeline);
  if (process.env.FIRST_VISIT_DEBUG) {
    // Where the time before the baked reading goes: the page's own requests and the state
    // changes, in one list ordered by time (the model worker's requests are its own).
    const resources = await page.evaluate(() => performance.getEntriesByType('resource').map((r) => ({
      what: `${new URL(r.name).pathname.split('/').slice(-2).join('/')} (${r.transferSize} B)`,
      ms: r.startTime, end: r.responseEnd,
    })));
    for (const t of [...timeline, ...resources].sort((a, b) => a.ms - b.ms)) {
      console.error(`${(t.ms / 1000).toFixed(3).padStart(8)}${t.end ? `–${(t.end / 1000).toFixed(3)}` : '      '}  ${t.what}`);
    }
  }
  const first = (pattern) => timeline.find((t) => pattern.test(t.what))?.ms ?? null;
  const baked = first(/^demo\[data-source=baked\]/);
  const pair = first(/^demo\[data-live=pair\]/);
  // The first live J(T): a live text-only score, else the text tower ready (J(T) can be
  // asked from then on; a gallery sample keeps its baked reading until the image tower is in).
  const text = first(/^demo\[data-live=/) === pair
    ? (first(/^body\[data-model=text-ready\]/) ?? pair)
    : first(/^demo\[data-live=/);
  const seconds = (ms) => (ms === null ? null : ms / 1000);
  return {
    finished,
    baked_s: seconds(baked), text_s: seconds(text), pair_s: seconds(pair),
    // The worker's preparation, download excluded, and where its concepts came from.
    prepare_s: Number(await page.getAttribute('#model-status', 'data-prepare-ms')) / 1000,
    concepts: await page.getAttribute('#model-status', 'data-concepts'),
  };
}

async function visit(model, backend, sites, hf) {
  const site = backend === 'cpu-threads' ? sites.isolated : sites.plain;
  const context = await launchChromium({ webgpu: backend === 'webgpu' });
  try {
    await context.addInitScript(recordTimeline);
    const page = context.pages()[0] ?? await context.newPage();
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
    const throughput = (mbit * 1e6) / 8;
    await cdp.send('Network.emulateNetworkConditions', {
      offline: false, latency, downloadThroughput: throughput, uploadThroughput: throughput,
    });
    const query = `?hub=${encodeURIComponent(hf.endpoint)}&model=${SHAPES[model].repo}${backend === 'webgpu' ? '' : '&cpu'}`;
    const firstVisit = await open(page, site.url + query);
    const requests = hf.seen().length;
    if (!firstVisit.finished) {
      return { model, backend, mbit, ...firstVisit, requests, badge: await page.textContent('#backend') };
    }
    // The return visit: weights from the Cache API, concepts from the bundle (the page prefers
    // them to IndexedDB's), so its preparation is "from a baked bundle, weights cached".
    const again = await open(page, site.url + query);
    return {
      model, backend, mbit, ...firstVisit, requests,
      return_baked_s: again.baked_s, return_pair_s: again.pair_s,
      return_prepare_s: again.prepare_s, return_concepts: again.concepts,
      return_weight_requests: hf.seen().length - requests,
      badge: await page.textContent('#backend'),
    };
  } finally {
    await context.close();
  }
}

const results = [];
for (const model of models) {
  const dir = await checkpoint(model);
  const root = await bakedPage(model, dir);
  const sites = {
    plain: await serveStatic(root, { gzip: true }),
    isolated: await serveStatic(root, { gzip: true, isolated: true }),
  };
  const hf = await startHfServer({ folder: dir, repo: SHAPES[model].repo });
  try {
    for (const backend of backends) {
      hf.reset?.();
      const r = await visit(model, backend, sites, hf);
      results.push(r);
      console.error(`${model} on ${backend}: baked ${r.baked_s?.toFixed(2)} s, J(T) ${r.text_s?.toFixed(1)} s, J(T,I) ${r.pair_s?.toFixed(1)} s; `
        + `return visit: baked ${r.return_baked_s?.toFixed(2)} s, J(T,I) ${r.return_pair_s?.toFixed(1)} s, prepare ${r.return_prepare_s?.toFixed(2)} s `
        + `(concepts ${r.return_concepts}, ${r.return_weight_requests} hub requests) (${r.badge.trim()})`);
    }
  } finally {
    await hf.close();
    await sites.plain.close();
    await sites.isolated.close();
    await rm(root, { recursive: true, force: true });
  }
}

console.log(`\nFirst visit at ${mbit} Mbit/s (${latency} ms latency), cold cache, seconds from page open:`);
console.log('| model | backend | badge | baked reading | live J(T) | live J(T, I) |');
console.log('| --- | --- | --- | --- | --- | --- |');
for (const r of results) {
  console.log(`| ${r.model} | ${r.backend} | ${r.badge.trim()} | ${r.baked_s?.toFixed(2)} | ${r.text_s?.toFixed(1)} | ${r.pair_s?.toFixed(1)} |`);
}
console.log('\nReturn visit (same profile: weights from the Cache API), seconds from page open; preparation (download excluded) and where its concepts came from:');
console.log('| model | backend | baked reading | live J(T, I) | preparation | concepts | requests to the hub |');
console.log('| --- | --- | --- | --- | --- | --- | --- |');
for (const r of results) {
  console.log(`| ${r.model} | ${r.backend} | ${r.return_baked_s?.toFixed(2)} | ${r.return_pair_s?.toFixed(1)} | ${r.return_prepare_s?.toFixed(2)} | ${r.return_concepts} | ${r.return_weight_requests} |`);
}
await mkdir(resolve(ROOT, 'target'), { recursive: true });
await writeFile(resolve(ROOT, 'target/first-visit.json'), JSON.stringify({ date: new Date().toISOString(), results }, null, 2));
