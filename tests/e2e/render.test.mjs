// Text-only rendering: a dataset and a mock model API whose strings carry markup and script
// payloads (`<img src=x onerror=…>`, `</script>`, `javascript:` links, SVG with onload, a very
// long string, right-to-left overrides, NUL bytes) go through every view that shows them: the
// evaluation's report (chart and tables), dataset mode (chart, groups, the leakiest samples, a
// sample opened in the demo), the demo's deep link and its shaded words, and a VLSBench sample
// from a hostile mirror. The payloads show as text, no element is injected, no handler runs,
// and the Content-Security-Policy reports no violation.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdtemp, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { serveStatic, launchChromium, startMockApi, watchCsp } from './harness.mjs';
import { startHfServer } from './hf_server.mjs';

const ROOT = resolve(import.meta.dirname, '..', '..');
const IMAGES = resolve(ROOT, 'tests/fixtures/eval/vlsbench-mini/imgs');
const TIMEOUT = 600_000;

// Each payload sets window.__pwned if it ever runs; none may.
const PAYLOADS = [
  '<img src=x onerror="window.__pwned=1">',
  '</script><script>window.__pwned=2</script>',
  '<a href="javascript:window.__pwned=3">click</a>',
  '<svg onload="window.__pwned=4"></svg>',
  '"><img src=x onerror=window.__pwned=5>',
  '\u202Egnp.exe\u202C and \u2067isolated\u2069',
  'NUL\u0000byte',
  `long ${'A'.repeat(20000)} end`,
];

/** What would show an injection: elements a payload would create, handlers, script URLs. */
function injected() {
  return [...document.querySelectorAll(
    'img[src="x"], img[onerror], svg[onload], [onerror], [onload], a[href^="javascript:"], script:not([src])',
  )].map((e) => e.outerHTML.slice(0, 120));
}

async function dataset() {
  const dir = await mkdtemp(join(tmpdir(), 'leakscope-hostile-'));
  await mkdir(join(dir, 'imgs'));
  await cp(IMAGES, join(dir, 'imgs'), { recursive: true });
  const rows = PAYLOADS.map((p, n) => ({
    instruction_id: n,
    instruction: `ROW${n}: ${p}`,
    image_path: `imgs/${n}.png`,
    category: `Cat ${n % 3} ${PAYLOADS[(n + 1) % PAYLOADS.length].slice(0, 60)}`,
    sub_category: `Sub ${n} ${PAYLOADS[(n + 2) % PAYLOADS.length].slice(0, 60)}`,
    source: `source ${PAYLOADS[(n + 3) % PAYLOADS.length].slice(0, 60)}`,
  }));
  await writeFile(join(dir, 'data.json'), JSON.stringify(rows));
  return dir;
}

let site;
let folder;
before(async () => {
  site = await serveStatic();
  folder = await dataset();
});
after(async () => { await site?.close(); });

async function open(context, query = '', hash = '') {
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(`${site.url}${query}${hash}`);
  return { page, errors };
}

async function assertClean(page, where) {
  assert.equal(await page.evaluate(() => window.__pwned), undefined, `${where}: a payload ran`);
  assert.deepEqual(await page.evaluate(injected), [], `${where}: elements injected`);
  assert.deepEqual(await page.evaluate(() => window.__cspViolations), [], `${where}: CSP violations`);
}

test('evaluation: hostile answers, verdicts and category names render as text', async () => {
  const finals = PAYLOADS.flatMap((p, row) => [
    { row, stage: 'target', final: 'text', text: p },
    {
      row, stage: 'judge', final: 'text',
      text: JSON.stringify({ label: 1 + (row % 3), label_str: p.slice(0, 200), explanation: p }),
    },
  ]);
  const mock = await startMockApi({ finals });
  const context = await launchChromium({ webgpu: false });
  await watchCsp(context);
  try {
    const { page, errors } = await open(context);
    await page.waitForSelector('body[data-eval-storage]');
    await page.setInputFiles('#eval-folder', folder);
    await page.waitForSelector(`body[data-eval-rows="${PAYLOADS.length}"]`);
    for (const [id, value] of [
      ['#target-base', `${mock.origin}/v1`], ['#target-model', 'mock-target'], ['#target-key', 'k1'],
      ['#judge-base', `${mock.origin}/v1`], ['#judge-model', 'mock-judge'], ['#judge-key', 'k2'],
      ['#timeout', '20'],
    ]) await page.fill(id, value);
    await page.click('#eval-start');
    await page.waitForSelector('body[data-eval-state="done"]', { timeout: TIMEOUT });
    const text = await page.evaluate(() => document.body.innerText);
    assert.ok(text.includes('Cat 0 </script><script>window.__pwned=2</script>'), 'category names show as text');
    assert.ok((await page.locator('#eval-chart svg text').count()) > 0, 'the chart is drawn');
    assert.ok(
      (await page.evaluate(() => [...document.querySelectorAll('#eval-chart svg text')].map((t) => t.textContent).join('\n')))
        .includes('<img src=x onerror="window.__pwned=1">'),
      'chart labels hold the payload as text',
    );
    await assertClean(page, 'evaluation report');
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
    mock.close();
  }
});

test('dataset mode, the demo and its deep link: hostile texts render as text', async () => {
  const context = await launchChromium({ webgpu: false });
  await watchCsp(context);
  try {
    const link = encodeURIComponent(PAYLOADS[0] + ' ' + PAYLOADS[1]);
    const { page, errors } = await open(context, '?model=test', `#sample=nope&text=${link}`);
    await page.waitForSelector('body[data-model="ready"]', { timeout: TIMEOUT });
    await page.waitForFunction(() => Number(document.querySelector('#demo').dataset.scored ?? 0) > 0
      && document.querySelector('#demo').dataset.busy === 'false', null, { timeout: TIMEOUT });
    assert.equal(await page.inputValue('#demo-text'), `${PAYLOADS[0]} ${PAYLOADS[1]}`, 'the link text is the query');
    const words = await page.evaluate(() => document.querySelector('#demo-words').textContent);
    assert.ok(words.includes('<img') || words.includes('img'), `shaded words: ${words}`);
    await assertClean(page, 'deep link');

    await page.setInputFiles('#ds-folder', folder);
    await page.waitForSelector(`body[data-ds-samples="${PAYLOADS.length}"]`);
    await page.click('#ds-start');
    await page.waitForSelector('body[data-ds-state="done"]', { timeout: TIMEOUT });
    const ranked = await page.evaluate(() => document.querySelector('#ds-ranked').textContent);
    for (const p of PAYLOADS.slice(0, 5)) assert.ok(ranked.includes(p), `ranked table shows ${p} as text`);
    assert.ok(ranked.includes('NUL'), 'the NUL row is listed');
    await assertClean(page, 'dataset report');

    // A hostile row opened in the demo.
    const generation = Number(await page.getAttribute('#demo', 'data-scored') ?? 0);
    await page.click('#ds-ranked tbody tr:first-child button[data-show]');
    await page.waitForFunction((n) => Number(document.querySelector('#demo').dataset.scored ?? 0) > n
      && document.querySelector('#demo').dataset.busy === 'false', generation, { timeout: TIMEOUT });
    assert.match(await page.inputValue('#demo-text'), /^ROW\d+: /);
    await assertClean(page, 'a sample in the demo');
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});

test('a VLSBench sample from a hostile mirror renders as text', async () => {
  const hf = await startHfServer({ folder, repo: 'datasets/evil/vlsbench', listing: false });
  const context = await launchChromium({ webgpu: false });
  await watchCsp(context);
  try {
    const { page, errors } = await open(context, `?model=test&hub=${encodeURIComponent(hf.endpoint)}&vlsbench=evil/vlsbench`);
    await page.waitForSelector('body[data-model="ready"]', { timeout: TIMEOUT });
    await page.click('#vls-load');
    await page.waitForSelector('#vls-status[data-state="shown"], #vls-status[data-state="error"]', { timeout: TIMEOUT });
    assert.equal(await page.getAttribute('#vls-status', 'data-state'), 'shown', await page.textContent('#vls-status'));
    const options = await page.evaluate(() => [...document.querySelectorAll('#vls-category option')].map((o) => o.textContent));
    assert.ok(options.some((o) => o.includes('<img src=x')), `categories as text: ${options.join(' | ')}`);
    assert.ok((await page.textContent('#vls-status')).includes('source '), 'the source shows');
    await assertClean(page, 'VLSBench sample');
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
    await hf.close();
  }
});
