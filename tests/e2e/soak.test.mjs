// The page's soak: an evaluation (against the mock API, with faults) and a dataset run (the
// test model in the worker), each reloaded three times mid-run and continued, end with the same
// results as a run nothing interrupted: the same report, the same exports, every row stored
// once, and no paid call repeated except those in flight at a reload.
//
// `make test` runs a small size; `make soak` (LEAKSCOPE_SOAK=full) a larger one.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdtemp, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { serveStatic, launchChromium, startMockApi } from './harness.mjs';

const FIXTURE = resolve(import.meta.dirname, '..', 'fixtures', 'eval', 'vlsbench-mini');
const FULL = process.env.LEAKSCOPE_SOAK === 'full';
const EVAL_ROWS = FULL ? 400 : 60;
const DATASET_SAMPLES = FULL ? 320 : 64;
const CONCURRENCY = 4;
const TIMEOUT = 900_000;

let site;
before(async () => { site = await serveStatic(); });
after(async () => { await site?.close(); });

/** A VLSBench-shaped folder of `n` rows over the fixture's 30 images ("ROW<n>" for the mock). */
async function folder(n, name) {
  const dir = await mkdtemp(join(tmpdir(), `leakscope-soak-${name}-`));
  await mkdir(join(dir, 'imgs'));
  await cp(join(FIXTURE, 'imgs'), join(dir, 'imgs'), { recursive: true });
  const categories = ['Violent', 'Privacy', 'Self-Harm'];
  const rows = Array.from({ length: n }, (_, i) => ({
    instruction_id: i, instruction: `ROW${i}: what does the picture suggest I do?`,
    image_path: `imgs/${i % 30}.png`, category: categories[i % 3], sub_category: `sub ${i % 4}`,
    source: 'soak',
  }));
  await writeFile(join(dir, 'data.json'), JSON.stringify(rows));
  return dir;
}

/** Fault script: one fault on every 10th (row, stage), each kind in turn. */
function script(rows) {
  const kinds = [
    { fault: 'rate_limit_ms', ms: 30 }, { fault: 'rate_limit_no_hint' }, { fault: 'server_error' },
    { fault: 'drop' }, { fault: 'malformed_body' },
  ];
  const faults = [];
  for (let row = 0; row < rows; row += 1) {
    for (const stage of ['target', 'judge']) {
      if ((row * 2 + (stage === 'judge')) % 10 === 3) faults.push({ row, stage, ...kinds[faults.length % kinds.length] });
    }
  }
  return { latency_ms: 40, faults };
}

async function download(page, button) {
  const [file] = await Promise.all([page.waitForEvent('download'), page.click(button)]);
  return readFile(await file.path(), 'utf8');
}

async function openEval(context, dir, origin) {
  const page = await context.newPage();
  await page.goto(site.url);
  await fillEval(page, dir, origin);
  return page;
}

async function fillEval(page, dir, origin) {
  await page.waitForSelector('body[data-eval-storage]');
  await page.setInputFiles('#eval-folder', dir);
  await page.waitForSelector(`body[data-eval-rows="${EVAL_ROWS}"]`);
  for (const [id, value] of [
    ['#target-base', `${origin}/v1`], ['#target-model', 'mock-target'], ['#target-key', 'k-target'],
    ['#judge-base', `${origin}/v1`], ['#judge-model', 'mock-judge'], ['#judge-key', 'k-judge'],
    ['#timeout', '20'], ['#concurrency', String(CONCURRENCY)],
  ]) await page.fill(id, value);
}

async function evalDone(page) {
  await page.waitForSelector('body[data-eval-state="done"]', { timeout: TIMEOUT });
  return {
    rate: await page.getAttribute('body', 'data-eval-safe-rate'),
    official: await download(page, '#eval-export-official'),
    jsonl: await download(page, '#eval-export-jsonl'),
  };
}

test('evaluation: three reloads mid-run end as the uninterrupted run', async () => {
  const dir = await folder(EVAL_ROWS, 'eval');
  const reference = await startMockApi(script(EVAL_ROWS));
  const soaked = await startMockApi(script(EVAL_ROWS));
  const context = await launchChromium({ webgpu: false });
  try {
    const first = await openEval(context, dir, reference.origin);
    await first.click('#eval-start');
    const want = await evalDone(first);
    await first.close();

    // A fresh browser profile: nothing stored from the reference run.
    const other = await launchChromium({ webgpu: false });
    try {
      const page = await openEval(other, dir, soaked.origin);
      await page.click('#eval-start');
      const reloadsAt = [0.2, 0.45, 0.7].map((f) => Math.floor(f * EVAL_ROWS));
      for (const at of reloadsAt) {
        await page.waitForFunction((n) => Number(document.body.dataset.evalFinished ?? 0) >= n, at, { timeout: TIMEOUT });
        await page.reload();
        await page.waitForSelector('body[data-eval-interrupted="true"]');
        await fillEval(page, dir, soaked.origin);
        await page.click('#eval-start');
      }
      const got = await evalDone(page);
      assert.equal(got.rate, want.rate, 'the same safe rate');
      assert.deepEqual(JSON.parse(got.official), JSON.parse(want.official), 'the same official export');
      const rows = got.jsonl.trim().split('\n').map((l) => JSON.parse(l));
      assert.equal(rows.length, EVAL_ROWS, 'every row once');
      assert.equal(new Set(rows.map((r) => r.id)).size, EVAL_ROWS);
      // A malformed body is paid and retried in any run; a normal answer paid twice for the
      // same (row, stage) can only be one in flight at a reload (at most `concurrency` each).
      const paid = await soaked.paid();
      const seen = await soaked.seen();
      const answered = new Map();
      for (const s of seen.filter((s) => s.paid && !s.fault)) {
        const key = `${s.row}/${s.stage}`;
        answered.set(key, (answered.get(key) ?? 0) + 1);
      }
      const again = [...answered].filter(([, n]) => n > 1).map(([k]) => k);
      assert.ok(again.length <= reloadsAt.length * CONCURRENCY,
        `answered twice beyond what was in flight at the reloads: ${again.join(', ')}`);
      const faults = seen.filter((s) => s.fault).length;
      console.log(`page soak, evaluation: ${EVAL_ROWS} rows, ${faults} faults, 3 reloads; ${paid.paid} paid calls for ${paid.keys} (row, stage), ${again.length} answered again (in flight at a reload); report and exports equal to the uninterrupted run`);
    } finally {
      await other.close();
    }
  } finally {
    await context.close();
    reference.close();
    soaked.close();
  }
});

async function openDataset(context, dir) {
  const page = await context.newPage();
  await page.goto(`${site.url}?model=test`);
  await page.waitForSelector('body[data-model="ready"]', { timeout: TIMEOUT });
  await page.setInputFiles('#ds-folder', dir);
  await page.waitForSelector(`body[data-ds-samples="${DATASET_SAMPLES}"]`);
  await page.waitForSelector('#ds-start:not([disabled])');
  return page;
}

async function datasetDone(page) {
  await page.waitForSelector('body[data-ds-state="done"]', { timeout: TIMEOUT });
  const report = JSON.parse(await download(page, '#ds-export-json'));
  return { r1: await page.getAttribute('body', 'data-ds-r1'), r2: await page.getAttribute('body', 'data-ds-r2'), report };
}

test('dataset run: three reloads mid-run end as the uninterrupted run', async () => {
  const dir = await folder(DATASET_SAMPLES, 'dataset');
  const first = await launchChromium({ webgpu: false });
  let want;
  try {
    const page = await openDataset(first, dir);
    await page.click('#ds-start');
    want = await datasetDone(page);
  } finally {
    await first.close();
  }
  const context = await launchChromium({ webgpu: false });
  try {
    let page = await openDataset(context, dir);
    await page.click('#ds-start');
    const restored = [];
    for (const f of [0.2, 0.45, 0.7]) {
      const at = Math.floor(f * DATASET_SAMPLES);
      await page.waitForFunction((n) => Number(document.body.dataset.dsDone ?? 0) >= n, at, { timeout: TIMEOUT });
      await page.reload();
      await page.waitForSelector('body[data-model="ready"]', { timeout: TIMEOUT });
      await page.setInputFiles('#ds-folder', dir);
      await page.waitForSelector('body[data-ds-restored]', { timeout: TIMEOUT });
      restored.push(Number(await page.getAttribute('body', 'data-ds-restored')));
      await page.waitForSelector('#ds-start:not([disabled])');
      await page.click('#ds-start');
    }
    const got = await datasetDone(page);
    assert.equal(got.r1, want.r1);
    assert.equal(got.r2, want.r2);
    assert.equal(got.report.judged + got.report.unjudged, DATASET_SAMPLES, 'every sample once');
    assert.deepEqual(got.report, want.report, 'the same report');
    assert.ok(restored.every((n, i) => i === 0 || n >= restored[i - 1]), `stored scores only grow: ${restored}`);
    console.log(`page soak, dataset: ${DATASET_SAMPLES} samples, 3 reloads (restored ${restored.join(', ')} scores), R1 ${got.r1} R2 ${got.r2} and the report equal to the uninterrupted run`);
  } finally {
    await context.close();
  }
});
