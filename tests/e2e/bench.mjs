// Browser timings for BENCHMARKS.md: the page's own work in Debian's headless Chromium, on WebGPU
// (SwiftShader on a machine without a GPU) and on the CPU backend (flex compiled to wasm) in its
// builds. Not a test (node --test does not pick up this file name) and nothing here asserts on
// time: it prints figures, and for the CPU builds ratios against the first build of the same
// run.
//
//   make bench-browser                      (release pages, then this script with its defaults)
//   node tests/e2e/bench.mjs [--model tiny|full|both] [--backend webgpu|cpu|both] [--warm 8]
//                            [--builds scalar,simd,threads] [--scalar-dist target/dist-scalar]
//                            [--json target/bench-browser.json] [--timeout-min 60]
//                            [--seed-concepts-on-cpu]
//
// CPU builds: `scalar` is the page built without simd128 (no Burn `simd`), as it was before
// wasm SIMD, from --scalar-dist (`make bench-browser` builds it there: scripts/release.sh
// --scalar); `simd` is the release page's single-threaded build, served without cross-origin
// isolation; `threads` its threaded build (threads/), the page served with COOP/COEP, with as
// many threads as the browser reports cores. A build whose page is missing is skipped.
//
// Models: `tiny` is the 2-layer test checkpoint the page serves itself (`?model=test`); `full` is
// the openai/clip-vit-base-patch32 shape with random weights: the one `make parity-full` writes
// to target/reference/clip-vit-base-patch32-random, else the bench's own (`leakscope bench
// --config vit-b-32 --write-checkpoint target/bench-models/vit-b-32`, same shape, the fixture
// vocabulary; the one first_visit.mjs uses too), served in Hugging Face's URL layout by hf_server.mjs
// (`?hub=…&model=…`), so the page's real download path runs.
//
// Every (model, backend) pair starts a fresh browser profile, so nothing is cached:
// - prepare: the worker's "preparing" phase, download excluded (weights parsed into tensors on
//   the device, then the guard head's 704 concept prompts through the text tower);
// - first: the first sample the demo scores after that: its image through preprocessing and the
//   vision tower (shader compilation included on WebGPU), then text + head;
// - warm: the medians of `--warm` further gallery samples: image (preprocessing + vision tower),
//   text (text tower + the three head scores, the image embedding reused), a full guard score
//   (image + text: J(T), image alone and J(T, I) for a new sample), attribution (one
//   leave-one-word-out batch) and the relevance overlay (the WGSL shader);
// - reload: the same page opened again: files from the Cache API, concepts from IndexedDB.
// --seed-concepts-on-cpu: for WebGPU, first prepare the model on the CPU backend in the same
// profile, so a software GPU (SwiftShader), where the 704 concept prompts take longer than the
// timeout for ViT-B/32, can still be timed on everything else; `prepare` is then the weight
// upload with concepts read back from IndexedDB.
import { existsSync } from 'node:fs';
import { writeFile, mkdir, mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { serveStatic, launchChromium, DIST } from './harness.mjs';
import { startHfServer } from './hf_server.mjs';

const ROOT = resolve(import.meta.dirname, '..', '..');
const FULLS = [
  resolve(ROOT, 'target/reference/clip-vit-base-patch32-random'),
  resolve(ROOT, 'target/bench-models/vit-b-32'),
];
const FULL = FULLS.find((dir) => existsSync(resolve(dir, 'model.safetensors'))) ?? FULLS[0];
const SAMPLES = JSON.parse(await readFile(resolve(ROOT, 'www/gallery/samples.json'), 'utf8'));

function option(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}
const both = (v, a, b) => (v === 'both' ? [a, b] : [v]);
const models = both(option('model', 'both'), 'tiny', 'full');
const backends = both(option('backend', 'both'), 'webgpu', 'cpu');
const warm = Number(option('warm', '8'));
const timeout = Number(option('timeout-min', '60')) * 60_000;
const jsonPath = option('json', resolve(ROOT, 'target/bench-browser.json'));
const seedOnCpu = process.argv.includes('--seed-concepts-on-cpu');
const builds = option('builds', 'scalar,simd,threads').split(',');
const scalarDist = resolve(ROOT, option('scalar-dist', 'target/dist-scalar'));
// Where each CPU build's page is, and whether it is served cross-origin isolated.
const BUILD_PAGES = {
  scalar: { dist: scalarDist, wasm: 'leakscope_bg.wasm', isolated: false },
  simd: { dist: DIST, wasm: 'leakscope_bg.wasm', isolated: false },
  threads: { dist: DIST, wasm: 'threads/leakscope_bg.wasm', isolated: true },
};

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** Waits for the demo's next scoring round (after `previous`) and reads its timings. */
async function round(page, previous) {
  await page.waitForFunction((n) => {
    const demo = document.querySelector('#demo');
    return Number(demo.dataset.scored ?? 0) > n && demo.dataset.busy === 'false';
  }, previous, { timeout });
  return page.evaluate(() => {
    const ms = (sel, attr = 'data-ms') => Number(document.querySelector(sel)?.getAttribute(attr) ?? NaN);
    return {
      generation: Number(document.querySelector('#demo').dataset.scored),
      image: ms('#demo', 'data-image-ms'),
      text: ms('#demo-timing'),
      attribution: ms('#demo-words'),
      overlay: ms('#demo-overlay'),
    };
  });
}

class NotReady extends Error {}

async function openReady(context, url) {
  const page = await context.newPage();
  const t0 = Date.now();
  await page.goto(url);
  try {
    await page.waitForSelector('body[data-model="ready"], body[data-model="error"]', { timeout });
  } catch (e) {
    // Report how far it got instead of losing the other rows.
    const status = (await page.textContent('#model-status').catch(() => '')).trim();
    throw new NotReady(`not ready after ${(timeout / 60_000).toFixed(0)} min; the page said: “${status}”`);
  }
  if ((await page.getAttribute('body', 'data-model')) !== 'ready') {
    throw new Error(`the model did not load: ${await page.textContent('#model-status')}`);
  }
  return {
    page,
    readySeconds: (Date.now() - t0) / 1000,
    prepareMs: Number(await page.getAttribute('#model-status', 'data-prepare-ms')),
    backend: (await page.textContent('#backend')).trim(),
  };
}

async function measure(model, backend, site, build) {
  let hf = null;
  let query = '?model=test';
  if (model === 'full') {
    if (!existsSync(resolve(FULL, 'model.safetensors'))) {
      console.error(`skipping the full model: ${FULL} is missing (make parity-full writes it)`);
      return null;
    }
    hf = await startHfServer({ folder: FULL, repo: 'bench/clip-vit-base-patch32-random' });
    query = `?hub=${encodeURIComponent(hf.endpoint)}&model=${hf.repo}`;
  }
  let userDataDir = null;
  if (seedOnCpu && backend === 'webgpu') {
    // The concept embeddings are cached per model and head, whichever backend computed them:
    // compute them on the CPU backend in this profile first, so the WebGPU figures below are
    // the weight upload, shader compilation and scores (its own concept pass is reported by the
    // runs without --seed-concepts-on-cpu).
    userDataDir = await mkdtemp(join(tmpdir(), 'leakscope-bench-'));
    const seeding = await launchChromium({ webgpu: false, userDataDir });
    try {
      console.error(`${model}: concept embeddings on the CPU backend first…`);
      const seeded = await openReady(seeding, `${site.url}${query}`);
      await seeded.page.close();
    } finally {
      await seeding.close();
    }
  }
  const context = await launchChromium({ webgpu: backend === 'webgpu', userDataDir });
  try {
    console.error(`${model} on ${backend}: loading (${userDataDir ? 'files and concepts cached' : 'fresh profile'})…`);
    const first = await openReady(context, `${site.url}${query}`);
    const firstRound = await round(first.page, 0);
    let generation = firstRound.generation;
    const rounds = [];
    for (let i = 1; i <= warm; i++) {
      const sample = SAMPLES[i % SAMPLES.length].id;
      await first.page.click(`#gallery button[data-sample="${sample}"]`);
      const r = await round(first.page, generation);
      generation = r.generation;
      rounds.push(r);
    }
    await first.page.close();
    const again = await openReady(context, `${site.url}${query}`);
    await again.page.close();
    const pick = (key) => median(rounds.map((r) => r[key]));
    const result = {
      model,
      build,
      concepts_seeded_on_cpu: Boolean(userDataDir),
      backend: first.backend,
      prepare_ms: first.prepareMs,
      ready_s: first.readySeconds,
      first_image_ms: firstRound.image,
      first_text_ms: firstRound.text,
      first_score_ms: firstRound.image + firstRound.text,
      warm_image_ms: pick('image'),
      warm_text_ms: pick('text'),
      warm_score_ms: median(rounds.map((r) => r.image + r.text)),
      warm_attribution_ms: pick('attribution'),
      warm_overlay_ms: pick('overlay'),
      warm_rounds: rounds.length,
      reload_prepare_ms: again.prepareMs,
    };
    console.error(JSON.stringify(result));
    return result;
  } finally {
    await context.close();
    await hf?.close();
  }
}

if (!existsSync(resolve(DIST, 'index.html'))) {
  console.error('dist/ has no page: run `make release` (or `make bench-browser`) first');
  process.exit(2);
}
// The WebGPU rows run the release page's single-threaded build; the CPU rows each build found.
const runs = [];
for (const backend of backends) {
  if (backend === 'webgpu') { runs.push({ backend, build: 'simd' }); continue; }
  for (const build of builds) {
    const page = BUILD_PAGES[build];
    if (!page) throw new Error(`--builds: unknown build ${build} (scalar, simd, threads)`);
    if (!existsSync(resolve(page.dist, page.wasm))) {
      console.error(`skipping the ${build} build: ${resolve(page.dist, page.wasm)} is missing`);
      continue;
    }
    runs.push({ backend, build });
  }
}
const sizes = {};
for (const { build } of runs) {
  const page = BUILD_PAGES[build];
  const bytes = await readFile(resolve(page.dist, page.wasm));
  sizes[build] = { raw: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length };
}
const sites = {};
const results = [];
try {
  for (const model of models) {
    for (const { backend, build } of runs) {
      const page = BUILD_PAGES[build];
      const key = `${page.dist}|${page.isolated}`;
      sites[key] ??= await serveStatic(page.dist, { isolated: page.isolated });
      try {
        const r = await measure(model, backend, sites[key], build);
        if (r) results.push(r);
      } catch (e) {
        if (!(e instanceof NotReady)) throw e;
        console.error(`${model} on ${backend} (${build}): ${e.message}`);
        results.push({ model, backend, build, not_ready: e.message });
      }
    }
  }
} finally {
  for (const site of Object.values(sites)) await site.close();
}

const s = (ms) => (ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${ms.toFixed(1)} ms`);
const mb = (n) => `${(n / 1e6).toFixed(2)} MB`;
console.log(`Headless Chromium (${process.env.CHROMIUM ?? '/usr/bin/chromium'}); medians of ${warm} warm samples`);
console.log('| model | build | badge | prepare (first) | prepare (reload) | first score | warm image | warm text | warm guard score | attribution | overlay |');
console.log('|---|---|---|---|---|---|---|---|---|---|---|');
for (const r of results) {
  if (r.not_ready) { console.log(`| ${r.model} | ${r.build} | ${r.backend} | ${r.not_ready} |`); continue; }
  console.log(`| ${r.model} | ${r.build} | ${r.backend} | ${s(r.prepare_ms)} | ${s(r.reload_prepare_ms)} | ${s(r.first_score_ms)} | ${s(r.warm_image_ms)} | ${s(r.warm_text_ms)} | ${s(r.warm_score_ms)} | ${s(r.warm_attribution_ms)} | ${s(r.warm_overlay_ms)} |`);
}
// Speed-ups of the CPU builds over the first one measured in this run (scalar by default).
for (const model of models) {
  const cpu = results.filter((r) => r.model === model && !r.not_ready && r.backend.startsWith('CPU'));
  if (cpu.length < 2) continue;
  const ref = cpu[0];
  console.log(`\n${model}: CPU builds against ${ref.build} (same run; > 1 is faster)`);
  console.log(`| build | prepare | warm image | warm text | warm guard score | attribution |`);
  console.log('|---|---|---|---|---|---|');
  const x = (key, r) => `${(ref[key] / r[key]).toFixed(2)}×`;
  for (const r of cpu) {
    console.log(`| ${r.build} | ${x('prepare_ms', r)} | ${x('warm_image_ms', r)} | ${x('warm_text_ms', r)} | ${x('warm_score_ms', r)} | ${x('warm_attribution_ms', r)} |`);
  }
}
console.log('\nModules: ' + Object.entries(sizes).map(([b, z]) => `${b} ${mb(z.raw)} raw, ${mb(z.gzip)} gzipped`).join('; '));
await mkdir(dirname(jsonPath), { recursive: true });
await writeFile(jsonPath, JSON.stringify({ date: new Date().toISOString(), sizes, results }, null, 2));
console.error(`wrote ${jsonPath}`);
