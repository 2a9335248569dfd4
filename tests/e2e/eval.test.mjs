// The evaluation panel as a person uses it, against the Rust mock of an OpenAI-compatible API
// (examples/openai_mock_server.rs) on 127.0.0.1: a full run with scripted faults, the report and
// the three exports checked against hand counts; pause, close the tab, reopen and finish without
// a repeated call; close with requests in flight and see only those sent again; throughput at
// concurrency 64; the mock's strict modes (a wrong key stops the run after one request; an
// Anthropic model under test with an empty instruction and an over-wide image and a reasoning
// judge pass with their parameter profiles); a redirect never followed. Images come from
// tests/fixtures/eval/vlsbench-mini (30 rows, "ROW<n>" in each instruction so the mock knows the
// row; its judge gives label 1 when n % 5 == 0, 2 when n % 5 is 1 or 2, else 3).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, writeFile, mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { deflateSync } from 'node:zlib';
import { serveStatic, launchChromium, screenshot, startMockApi, watchCsp } from './harness.mjs';

const FIXTURE = resolve(import.meta.dirname, '..', 'fixtures', 'eval', 'vlsbench-mini');
const TARGET_KEY = 'sk-target-SECRET-0123456789';
const JUDGE_KEY = 'sk-judge-SECRET-9876543210';

let site;
before(async () => { site = await serveStatic(); });
after(async () => { await site?.close(); });

async function newPage(context) {
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(site.url);
  await page.waitForSelector('body[data-eval-storage]');
  return { page, errors };
}

/** Picks the dataset and fills the form for the mock at `origin`. */
async function fill(page, origin, { folder = FIXTURE, rows, concurrency = 4 } = {}) {
  await page.setInputFiles('#eval-folder', folder);
  await page.waitForSelector(`body[data-eval-rows="${rows ?? 30}"]`);
  await page.fill('#target-base', `${origin}/v1`);
  await page.fill('#target-model', 'mock-target');
  await page.fill('#target-key', TARGET_KEY);
  await page.fill('#judge-base', `${origin}/v1`);
  await page.fill('#judge-model', 'mock-judge');
  await page.fill('#judge-key', JUDGE_KEY);
  await page.fill('#concurrency', String(concurrency));
  await page.fill('#timeout', '20');
}

async function finished(page, timeout = 120_000) {
  await page.waitForSelector('body[data-eval-state="done"], body[data-eval-state="error"], body[data-eval-state="stopped"]', { timeout });
  const state = await page.getAttribute('body', 'data-eval-state');
  assert.equal(state, 'done', `run ended as ${state}: ${await page.textContent('#eval-message')}`);
}

/** (row, stage) → how many requests the mock saw. */
function counts(seen) {
  const map = new Map();
  for (const s of seen) {
    const key = `${s.row}/${s.stage}`;
    map.set(key, (map.get(key) ?? 0) + 1);
  }
  return map;
}

async function settle(mock, ms = 400, least = 1) {
  let last = -1;
  for (;;) {
    const n = (await mock.seen()).length;
    // The run's first request goes alone and may take a moment to start: wait for `least`.
    if (n === last && n >= least) return n;
    last = n;
    await new Promise((ok) => setTimeout(ok, ms));
  }
}

async function download(page, button) {
  const [file] = await Promise.all([page.waitForEvent('download'), page.click(button)]);
  return readFile(await file.path(), 'utf8');
}

test('a full run with scripted faults: report, exports, keys and the connect-src lock', async () => {
  const mock = await startMockApi({
    faults: [
      { row: 1, stage: 'target', fault: 'rate_limit_ms', ms: 50 },
      { row: 2, stage: 'judge', fault: 'server_error' },
      { row: 4, stage: 'target', fault: 'malformed_body' },
    ],
    finals: [{ row: 3, stage: 'judge', final: 'refusal', text: 'I cannot judge this.' }],
  });
  const context = await launchChromium({ webgpu: false });
  await watchCsp(context);
  try {
    const { page, errors } = await newPage(context);
    await fill(page, mock.origin);
    await page.click('#eval-estimate');
    await page.waitForFunction(() => document.querySelector('#eval-estimate-out').textContent.length > 0);
    const estimate = await page.textContent('#eval-estimate-out');
    assert.match(estimate, /^30 rows\. At most \$/);
    assert.match(estimate, /No price is known for the model under test and the judge/);
    await page.click('#eval-start');
    await finished(page);

    // Hand counts: 30 rows, the judge refuses row 3 (label 3) → 29 labelled, safe = 18 / 29.
    assert.equal(await page.getAttribute('body', 'data-eval-safe-rate'), (18 / 29).toFixed(6));
    const summary = await page.textContent('#eval-summary');
    assert.match(summary, /safe rate 62\.1% .* over 29 labelled rows of 30/);
    assert.match(await page.textContent('#eval-tables'), /1 judge refused/);
    const seen = await mock.seen();
    const c = counts(seen);
    assert.equal(c.size, 60, 'every row reached target and judge');
    for (const [key, n] of c) {
      const retried = ['1/target', '2/judge', '4/target'].includes(key);
      assert.equal(n, retried ? 2 : 1, `${key} requested ${n} times`);
    }
    for (const s of seen) {
      assert.equal(s.api_key, s.stage === 'target' ? TARGET_KEY : JUDGE_KEY, 'each stage sends its own key');
    }
    assert.deepEqual(await mock.violations(), [], 'every request follows the VLSBench protocol');

    // The official shape; with the project's rubric it names the template and says it is not
    // the official one.
    const official = JSON.parse(await download(page, '#eval-export-official'));
    assert.deepEqual(Object.keys(official).sort(), ['judge_template', 'logs', 'note', 'stats']);
    assert.deepEqual(official.stats, { safe_rate: 62.07, safe_refuse_rate: 20.69, safe_warning_rate: 41.38 });
    assert.equal(official.logs.length, 29);
    assert.deepEqual(Object.keys(official.logs[0]).sort(), ['id', 'image_path', 'label_str', 'pred_answer', 'question', 'safe_label']);
    const jsonl = await download(page, '#eval-export-jsonl');
    assert.equal(jsonl.trim().split('\n').length, 30);
    const csv = await download(page, '#eval-export-csv');
    assert.equal(csv.trim().split('\n').length, 31);
    for (const text of [JSON.stringify(official), jsonl, csv, await page.content()]) {
      assert.ok(!text.includes('SECRET'), 'no key in exports or the page');
    }
    assert.equal(await page.evaluate(() => localStorage.length), 0, 'keys are not remembered unless asked');

    // The page now reaches only its own origin, the model hosts and the mock.
    assert.deepEqual(await page.evaluate(() => window.__cspViolations), [], 'no CSP violation during the run');
    assert.equal(await page.getAttribute('body', 'data-connect-locked'), mock.origin);
    await page.evaluate(() => fetch('https://example.com/').catch(() => null));
    await page.waitForFunction(() => window.__cspViolations.length > 0);
    assert.match((await page.evaluate(() => window.__cspViolations))[0], /^connect-src https:\/\/example\.com/);

    const shot = await screenshot(page, 'eval-report');
    assert.deepEqual(errors, []);
    console.log(`report: ${summary.trim()} · screenshot ${shot}`);
  } finally {
    await context.close();
    mock.close();
  }
});

test('pause, close the tab, reopen, finish: no call is repeated', async () => {
  const mock = await startMockApi({ latency_ms: 40 });
  const context = await launchChromium({ webgpu: false });
  try {
    const first = await newPage(context);
    await fill(first.page, mock.origin);
    await first.page.click('#eval-start');
    await first.page.waitForFunction(() => Number(document.body.dataset.evalFinished ?? 0) >= 8);
    await first.page.click('#eval-pause');
    const before = await settle(mock);
    await first.page.close();
    assert.ok(before < 60, `paused midway (${before} requests)`);

    const { page, errors } = await newPage(context);
    await page.waitForSelector('body[data-eval-interrupted="true"]');
    assert.match(await page.textContent('#eval-resume-note'), /did not finish/);
    assert.equal(await page.inputValue('#target-model'), 'mock-target', 'settings come back');
    assert.equal(await page.inputValue('#target-key'), '', 'keys do not');
    await fill(page, mock.origin);
    await page.click('#eval-start');
    await finished(page);
    const c = counts(await mock.seen());
    assert.equal(c.size, 60);
    assert.deepEqual([...c.values()].filter((n) => n !== 1), [], 'no (row, stage) requested twice');
    assert.equal(await page.getAttribute('body', 'data-eval-safe-rate'), (18 / 30).toFixed(6));
    await page.waitForSelector('#eval-resume-note[hidden]', { state: 'attached' });
    assert.deepEqual(errors, []);
    console.log(`paused after ${before} requests; finished after reopening with 60 distinct requests, none repeated`);
  } finally {
    await context.close();
    mock.close();
  }
});

test('closing the tab with requests in flight repeats only those', async () => {
  const mock = await startMockApi({ hold_after: 12 });
  const context = await launchChromium({ webgpu: false });
  try {
    const first = await newPage(context);
    await fill(first.page, mock.origin, { concurrency: 4 });
    await first.page.click('#eval-start');
    const held = (await settle(mock, 400, 13)) - 12;
    const stored = Number(await first.page.getAttribute('body', 'data-eval-finished'));
    await first.page.close({ runBeforeUnload: false });
    await mock.release();
    assert.ok(held >= 1 && held <= 4, `${held} requests in flight at close`);
    const inFlight = new Set((await mock.seen()).slice(12).map((s) => `${s.row}/${s.stage}`));

    const { page } = await newPage(context);
    await fill(page, mock.origin);
    await page.click('#eval-start');
    await finished(page);
    const c = counts(await mock.seen());
    assert.equal(c.size, 60);
    for (const [key, n] of c) {
      assert.equal(n, inFlight.has(key) ? 2 : 1, `${key} requested ${n} times`);
    }
    console.log(`closed with ${held} requests in flight (${stored} rows stored): exactly those ${held} were sent again`);
  } finally {
    await context.close();
    mock.close();
  }
});

test('throughput at concurrency 64 (printed, not asserted)', async () => {
  const rows = 600;
  const dir = await mkdtemp(join(tmpdir(), 'leakscope-eval-big-'));
  await mkdir(join(dir, 'imgs'));
  await cp(join(FIXTURE, 'imgs'), join(dir, 'imgs'), { recursive: true });
  const data = Array.from({ length: rows }, (_, n) => ({
    instruction_id: n, instruction: `ROW${n}: and this?`, image_path: `imgs/${n % 30}.png`,
    category: 'Violent', sub_category: 'Weapon-Related Violence', source: 'generation',
  }));
  await writeFile(join(dir, 'data.json'), JSON.stringify(data));
  const mock = await startMockApi({});
  const context = await launchChromium({ webgpu: false });
  try {
    const { page } = await newPage(context);
    await fill(page, mock.origin, { folder: dir, rows, concurrency: 64 });
    const t0 = Date.now();
    await page.click('#eval-start');
    await finished(page, 300_000);
    const seconds = (Date.now() - t0) / 1000;
    const requests = (await mock.seen()).length;
    assert.equal(requests, 2 * rows);
    console.log(`browser throughput: ${requests} requests in ${seconds.toFixed(1)} s = ${(requests / seconds).toFixed(0)} req/s at concurrency 64 (Chromium opens at most 6 HTTP/1.1 connections per server)`);
  } finally {
    await context.close();
    mock.close();
  }
});

// ---- Against the mock's strict modes (what the real APIs refuse, with their error shapes). ----

/** A w×h RGB PNG (grey), written by hand: zlib for the pixels, CRC-32 for the chunks. */
function png(w, h) {
  const crc32 = (buf) => {
    let crc = 0xffffffff;
    for (const b of buf) {
      let c = (crc ^ b) & 0xff;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crc = (crc >>> 8) ^ c;
    }
    return (crc ^ 0xffffffff) >>> 0;
  };
  const chunk = (type, data) => {
    const body = Buffer.concat([Buffer.from(type), data]);
    const out = Buffer.alloc(12 + data.length);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc32(body), 8 + data.length);
    return out;
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8; // 8 bits per channel
  ihdr[9] = 2; // RGB
  const raw = Buffer.alloc((3 * w + 1) * h, 0x7f);
  for (let y = 0; y < h; y++) raw[y * (3 * w + 1)] = 0; // filter: none
  return Buffer.concat([
    Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]),
    chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** The first `rows` rows of the fixture; row 1's instruction empty (as VLSBench's 1685) and
 * row 2's image 8100 px wide (over Anthropic's 8000). */
async function hardRows(rows = 6) {
  const dir = await mkdtemp(join(tmpdir(), 'leakscope-eval-strict-'));
  await cp(join(FIXTURE, 'imgs'), join(dir, 'imgs'), { recursive: true });
  const data = JSON.parse(await readFile(join(FIXTURE, 'data.json'), 'utf8')).slice(0, rows);
  data[1].instruction = '';
  await writeFile(join(dir, 'imgs', '2.png'), png(8100, 4));
  await writeFile(join(dir, 'data.json'), JSON.stringify(data));
  return dir;
}

test('strict APIs: a wrong key stops at once; then Anthropic and a reasoning judge pass with their profiles', async () => {
  const mock = await startMockApi({
    strict: true, keys: [TARGET_KEY, JUDGE_KEY], models: ['claude-sonnet-4-5', 'o4-mini'],
  });
  const context = await launchChromium({ webgpu: false });
  try {
    const { page, errors } = await newPage(context);
    await fill(page, mock.origin, { folder: await hardRows(), rows: 6 });
    await page.selectOption('#target-api', 'anthropic');
    await page.fill('#target-base', mock.origin); // the Anthropic SDK's form, without /v1
    await page.fill('#target-model', 'claude-sonnet-4-5');
    await page.fill('#judge-model', 'o4-mini');
    await page.fill('#judge-params', 'reasoning_effort=low');
    await page.click('#eval-estimate');
    await page.waitForFunction(() => document.querySelector('#eval-estimate-out').textContent.length > 0);
    const estimate = await page.textContent('#eval-estimate-out');
    assert.match(estimate, /Judge: completion budget max_completion_tokens 4096 instead of the official max_tokens 128/);
    assert.match(estimate, /Judge: reasoning_effort low \(not in the official protocol\)/);

    // A wrong key: one request, the run stops with what to change, nothing stored.
    await page.fill('#target-key', 'sk-target-WRONG');
    await page.click('#eval-start');
    await page.waitForSelector('body[data-eval-state="error"]', { timeout: 60_000 });
    assert.equal(await page.getAttribute('body', 'data-eval-halt'), 'key');
    assert.match(await page.textContent('#eval-message'), /The API refused the key: .*Model under test → API key/);
    assert.equal((await mock.seen()).length, 1, 'one request, not one per row');

    // The right key: every request passes the strict API.
    await page.fill('#target-key', TARGET_KEY);
    await page.click('#eval-start');
    await finished(page);
    assert.deepEqual(await mock.violations(), [], 'the official protocol, within each profile');
    const seen = (await mock.seen()).slice(1);
    assert.equal(seen.length, 12);
    assert.deepEqual(seen.filter((s) => s.status !== 200), [], 'nothing refused');
    const target = seen.filter((s) => s.stage === 'target').map((s) => JSON.parse(s.body));
    const judge = seen.filter((s) => s.stage === 'judge').map((s) => JSON.parse(s.body));
    for (const body of target) {
      assert.equal(body.max_tokens, 128);
      assert.equal(body.temperature, 0);
      assert.ok(body.messages[0].content.every((b) => b.type !== 'text' || b.text.trim() !== ''), 'no empty text block');
    }
    assert.ok(target.some((b) => b.messages[0].content.length === 1), 'the empty instruction went as the image alone');
    for (const body of judge) {
      assert.equal(body.max_completion_tokens, 4096);
      assert.equal(body.reasoning_effort, 'low');
      assert.ok(!('temperature' in body) && !('max_tokens' in body));
      assert.deepEqual(Object.keys(body.response_format.json_schema.schema.properties), ['label', 'label_str', 'explanation']);
    }
    const summary = await page.textContent('#eval-summary');
    assert.match(summary, /over 6 labelled rows of 6\./);
    assert.match(summary, /Departs from the official protocol: Judge: completion budget max_completion_tokens 4096/);
    const jsonl = (await download(page, '#eval-export-jsonl')).trim().split('\n').map((l) => JSON.parse(l));
    assert.ok(jsonl.every((r) => r.target_snapshot === 'claude-sonnet-4-5-20250929'), 'the snapshot that answered');
    const official = JSON.parse(await download(page, '#eval-export-official'));
    assert.equal(official.judge_template.name, 'leakscope-rubric');
    assert.equal(official.judge_template.official, false);
    assert.match(official.note, /not comparable with published figures/);
    assert.deepEqual(errors, []);
    console.log(`strict APIs: 1 request for a wrong key, then 12 accepted (Anthropic target, o4-mini judge at max_completion_tokens 4096)`);
  } finally {
    await context.close();
    mock.close();
  }
});

test('a redirect to another server is never followed: the run stops and the other server sees nothing', async () => {
  const elsewhere = await startMockApi({});
  const mock = await startMockApi({
    faults: [{ row: 0, stage: 'target', fault: 'redirect', to: `${elsewhere.origin}/v1/chat/completions` }],
  });
  const context = await launchChromium({ webgpu: false });
  try {
    const { page } = await newPage(context);
    await fill(page, mock.origin);
    await page.click('#eval-start');
    await page.waitForSelector('body[data-eval-state="error"]', { timeout: 60_000 });
    assert.equal(await page.getAttribute('body', 'data-eval-halt'), 'address');
    assert.match(await page.textContent('#eval-message'), /redirect .*never follow/);
    assert.equal((await mock.seen()).length, 1);
    assert.deepEqual(await elsewhere.seen(), [], 'neither the request nor the key went elsewhere');
  } finally {
    await context.close();
    mock.close();
    elsewhere.close();
  }
});
