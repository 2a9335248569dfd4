// Dataset mode in the page: the 30-row VLSBench-shaped fixture scored by the test model in the
// worker (CPU backend), paused midway, the tab closed and reopened, the run continued from the
// scores stored in IndexedDB; R1 and R2 equal what `leakscope leakage` computes natively on the
// same files; the leakiest-samples table sorts; the exports download.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtemp, readFile, readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { serveStatic, launchChromium, screenshot } from './harness.mjs';

const ROOT = resolve(import.meta.dirname, '..', '..');
const FIXTURE = resolve(ROOT, 'tests/fixtures/eval/vlsbench-mini');
const CLI = resolve(ROOT, 'target/debug/leakscope');
const TIMEOUT = 600_000;

let site;
before(async () => { site = await serveStatic(); });
after(async () => { await site?.close(); });

async function nativeReport() {
  const out = await mkdtemp(join(tmpdir(), 'leakscope-vsil-'));
  await promisify(execFile)(CLI, ['leakage', join(FIXTURE, 'data.json'), '--model', resolve(ROOT, 'tests/fixtures/tiny-clip'), '--out', out]);
  const report = JSON.parse(await readFile(join(out, 'report.json'), 'utf8'));
  report.scores = await readFile(join(out, 'scores.jsonl'), 'utf8');
  return report;
}

/** The page's scores.jsonl export equals `leakscope leakage`'s: the same lines in the same
 * order, numbers within 1e-4 as the demo test allows (the same batch scorer; margins are log
 * odds of logits scaled by about 100, so summation order shows in the fifth decimal). */
function sameScoreLines(pageText, nativeText) {
  const parse = (text) => text.trim().split('\n').map((l) => JSON.parse(l));
  const [got, want] = [parse(pageText), parse(nativeText)];
  assert.equal(got.length, want.length);
  got.forEach((g, i) => {
    const w = want[i];
    assert.deepEqual(Object.keys(g), Object.keys(w), `line ${i + 1}: the same fields`);
    for (const key of Object.keys(w)) {
      if (typeof w[key] === 'number') {
        assert.ok(Math.abs(g[key] - w[key]) <= 1e-4, `line ${i + 1} ${key}: ${g[key]} vs ${w[key]}`);
      } else if (key === 'top_harm') {
        assert.equal(g.top_harm.phrase, w.top_harm.phrase, `line ${i + 1} top_harm`);
      } else {
        assert.deepEqual(g[key], w[key], `line ${i + 1} ${key}`);
      }
    }
  });
  return got.length;
}

/** Waits for the run to finish; its R1 and R2 must equal the native report's. */
async function finishedLikeNative(page, native) {
  await page.waitForSelector('body[data-ds-state="done"]', { timeout: TIMEOUT });
  const r1 = Number(await page.getAttribute('body', 'data-ds-r1'));
  const r2 = Number(await page.getAttribute('body', 'data-ds-r2'));
  assert.equal(r1.toFixed(6), native.overall.r1.rate.toFixed(6));
  assert.equal(r2.toFixed(6), native.overall.r2.rate.toFixed(6));
  return { r1, r2 };
}

async function openWithModel(context) {
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(`${site.url}?model=test`);
  await page.waitForSelector('body[data-model="ready"]', { timeout: TIMEOUT });
  await page.setInputFiles('#ds-folder', FIXTURE);
  await page.waitForSelector('body[data-ds-samples="30"]');
  await page.waitForSelector('#ds-start:not([disabled])');
  return { page, errors };
}

test('dataset mode: pause, reopen, finish; R1 and R2 equal the native report', async () => {
  const native = await nativeReport();
  const context = await launchChromium({ webgpu: false });
  try {
    const first = await openWithModel(context);
    // Pause at once: the batch in flight (16 samples) finishes and is stored, no other starts.
    await first.page.click('#ds-start');
    await first.page.click('#ds-pause');
    await first.page.waitForSelector('body[data-ds-state="paused"]', { timeout: TIMEOUT });
    const before = Number(await first.page.getAttribute('body', 'data-ds-done'));
    assert.ok(before >= 16 && before < 30, `paused after ${before} samples`);
    await first.page.close();

    const { page, errors } = await openWithModel(context);
    await page.waitForSelector('body[data-ds-restored]');
    assert.equal(Number(await page.getAttribute('body', 'data-ds-restored')), before, 'stored scores come back');
    await page.click('#ds-start');
    const { r1, r2 } = await finishedLikeNative(page, native);

    // Sort by P(unsafe | text), ascending then descending.
    await page.click('#ds-ranked button[data-sort="text"]');
    const firstAscending = await page.textContent('#ds-ranked tbody tr:first-child td:nth-child(3)');
    await page.click('#ds-ranked button[data-sort="text"]');
    const firstDescending = await page.textContent('#ds-ranked tbody tr:first-child td:nth-child(3)');
    assert.ok(Number(firstDescending) >= Number(firstAscending));
    // A row opens in the demo with its text and image.
    const generation = Number(await page.getAttribute('#demo', 'data-scored') ?? 0);
    await page.click('#ds-ranked tbody tr:first-child button[data-show]');
    await page.waitForFunction((n) => Number(document.querySelector('#demo').dataset.scored ?? 0) > n && document.querySelector('#demo').dataset.busy === 'false', generation, { timeout: TIMEOUT });
    assert.match(await page.inputValue('#demo-text'), /^ROW\d+:/);
    const [file] = await Promise.all([page.waitForEvent('download'), page.click('#ds-export-json')]);
    const report = JSON.parse(await readFile(await file.path(), 'utf8'));
    assert.equal(report.judged, 30);
    assert.equal(report.overall.r2.successes, native.overall.r2.successes);
    const [scores] = await Promise.all([page.waitForEvent('download'), page.click('#ds-export-scores')]);
    const lines = sameScoreLines(await readFile(await scores.path(), 'utf8'), native.scores);
    const shot = await screenshot(page, 'dataset-report');
    assert.deepEqual(errors, []);
    console.log(`dataset mode: paused after ${before} of 30, finished after reopening; R1 ${(r1 * 100).toFixed(1)}% R2 ${(r2 * 100).toFixed(1)}% = native; ${lines} score lines equal the CLI's scores.jsonl; screenshot ${shot}`);
  } finally {
    await context.close();
  }
});

test('a benchmark folder dropped on dataset mode reads like a picked one', async () => {
  const native = await nativeReport();
  // Chromium gives a dropped folder as file-system entries; headless Chromium cannot drag a real
  // folder, so the test hands the page's drop handler entries of the same shape (fullPath,
  // isFile/isDirectory, file(), createReader().readEntries() in slices) around real File objects.
  const names = ['data.json', ...(await readdir(join(FIXTURE, 'imgs'))).map((n) => `imgs/${n}`)];
  const files = await Promise.all(names.map(async (name) => [name, (await readFile(join(FIXTURE, name))).toString('base64')]));
  const context = await launchChromium({ webgpu: false });
  try {
    const page = await context.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(`${site.url}?model=test`);
    await page.waitForSelector('body[data-model="ready"]', { timeout: TIMEOUT });
    await page.evaluate((files) => {
      const later = (f) => setTimeout(f, 0);
      const file = (path, b64) => {
        const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
        const name = path.split('/').pop();
        const blob = new File([bytes], name, { type: name.endsWith('.png') ? 'image/png' : 'application/json' });
        return { isFile: true, isDirectory: false, name, fullPath: `/vlsbench-mini/${path}`, file: (ok) => later(() => ok(blob)) };
      };
      const dir = (fullPath, children) => ({
        isFile: false, isDirectory: true, name: fullPath.split('/').pop(), fullPath,
        createReader() {
          let given = 0;
          return { readEntries(ok) { const slice = children.slice(given, given + 7); given += slice.length; later(() => ok(slice)); } };
        },
      });
      const entries = files.map(([path, b64]) => file(path, b64));
      const root = dir('/vlsbench-mini', [
        entries[0],
        dir('/vlsbench-mini/imgs', entries.slice(1)),
      ]);
      const drop = new DragEvent('drop', { bubbles: true, cancelable: true });
      Object.defineProperty(drop, 'dataTransfer', { value: { items: [{ kind: 'file', webkitGetAsEntry: () => root }] } });
      document.querySelector('#ds-status').dispatchEvent(drop);
    }, files);
    await page.waitForSelector('body[data-ds-samples="30"]', { timeout: TIMEOUT });
    const status = await page.textContent('#ds-status');
    assert.match(status, /30 samples .* 30 with their image/, status);
    await page.click('#ds-start');
    const { r1, r2 } = await finishedLikeNative(page, native);
    assert.deepEqual(errors, []);
    console.log(`dropped folder: ${status.trim()} R1 ${(r1 * 100).toFixed(1)}% R2 ${(r2 * 100).toFixed(1)}% = native`);
  } finally {
    await context.close();
  }
});
