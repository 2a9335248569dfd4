// "Compare runs" in the page: two run folders written by `leakscope eval` (against the mock
// API, two target models) picked as one parent folder, then a third run's report.json alone;
// the leaderboard shows every model with the same tables `leakscope compare` prints, the chart,
// and CSV / Markdown exports.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdir, mkdtemp, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { serveStatic, launchChromium, screenshot, startMockApi } from './harness.mjs';

const ROOT = resolve(import.meta.dirname, '..', '..');
const CLI = resolve(ROOT, 'target/debug/leakscope');
const DATA = resolve(ROOT, 'tests/fixtures/eval/vlsbench-mini/data.json');

async function evaluate(mock, model, out) {
  await promisify(execFile)(CLI, [
    'eval', DATA, '--out', out, '--yes', '--max-rows', '10',
    '--target-base-url', mock.origin + '/v1', '--target-model', model, '--target-price', '1,2',
    '--judge-base-url', mock.origin + '/v1', '--judge-model', 'judge-a', '--judge-price', '1,2',
  ], { env: { ...process.env, OPENAI_API_KEY: 'sk-test-compare' } });
}

test('two run folders and a report.json make a leaderboard with exports', async () => {
  const root = await mkdtemp(join(tmpdir(), 'leakscope-compare-'));
  const runs = join(root, 'runs');
  await mkdir(runs);
  const mock = await startMockApi({});
  const site = await serveStatic();
  const context = await launchChromium({ webgpu: false });
  try {
    await evaluate(mock, 'model-a', join(runs, 'model-a'));
    await evaluate(mock, 'model-b', join(runs, 'model-b'));
    await evaluate(mock, 'model-c', join(root, 'model-c'));
    const page = await context.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(site.url);
    await page.waitForSelector('body[data-state="ready"]', { timeout: 120_000 });
    await page.setInputFiles('#cmp-folder', runs);
    await page.waitForSelector('body[data-cmp-runs="2"]');
    await page.setInputFiles('#cmp-files', join(root, 'model-c', 'report.json'));
    await page.waitForSelector('body[data-cmp-runs="3"]');
    const tables = await page.textContent('#cmp-tables');
    for (const model of ['model-a', 'model-b', 'model-c']) assert.match(tables, new RegExp(model));
    // The two folders carry rows.jsonl: paired; the report.json alone: unpaired.
    assert.match(tables, /McNemar, 10 rows/);
    assert.match(tables, /two-proportion z/);
    assert.equal(await page.getAttribute('body', 'data-cmp-significant'), '0', 'the same judge gives the same labels');
    assert.ok(await page.$('#cmp-chart svg'), 'the chart is drawn');
    const [csv] = await Promise.all([page.waitForEvent('download'), page.click('#cmp-export-csv')]);
    assert.match(await readFile(await csv.path(), 'utf8'), /Model,Judge,n,safe,refuse,warning/);
    const [md] = await Promise.all([page.waitForEvent('download'), page.click('#cmp-export-md')]);
    assert.match(await readFile(await md.path(), 'utf8'), /\| Model \| Judge \|/);
    const shot = await screenshot(page, 'compare-leaderboard', '#compare');
    assert.deepEqual(errors, []);
    console.log(`compare: 3 runs (2 folders, 1 report.json), tables and exports; screenshot ${shot}`);
  } finally {
    await context.close();
    await site.close();
    mock.close();
  }
});
