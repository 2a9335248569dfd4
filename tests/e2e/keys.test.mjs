// API keys never leak. An evaluation against the mock API with "remember" off, then every place a
// key could end up is read back: localStorage, sessionStorage, cookies, every IndexedDB database
// and store (records, blobs and buffers included), every Cache API entry (request, headers,
// body), the address, the page's markup, every exported file, and the console of the page and
// its worker. The keys are in none of them (they reach only the mock, each with its own stage).
// With "remember" on, they are only in localStorage's `leakscope.eval.keys` entry (where the
// page says: this browser's storage for this site), come back after a reload, and "Forget keys"
// removes them.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { serveStatic, launchChromium, startMockApi, watchCsp } from './harness.mjs';

const FIXTURE = resolve(import.meta.dirname, '..', 'fixtures', 'eval', 'vlsbench-mini');
const TARGET_KEY = 'sk-target-LEAKCHECK-7f3a9c01e5';
const JUDGE_KEY = 'sk-judge-LEAKCHECK-2b8d6e44f0';
const KEYS = [TARGET_KEY, JUDGE_KEY];

let site;
before(async () => { site = await serveStatic(); });
after(async () => { await site?.close(); });

/** Everything the browser keeps for the page, as text (bytes as latin1, blobs read). */
async function storageDump(page) {
  return page.evaluate(async () => {
    const text = async (v, depth = 0) => {
      if (depth > 8 || v === null || v === undefined) return String(v);
      if (typeof v === 'string') return v;
      if (typeof v !== 'object') return String(v);
      if (v instanceof Blob) return v.text();
      if (v instanceof ArrayBuffer) return new TextDecoder('latin1').decode(new Uint8Array(v));
      if (ArrayBuffer.isView(v)) return new TextDecoder('latin1').decode(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
      const parts = [];
      for (const [k, x] of Object.entries(v)) parts.push(`${k}=${await text(x, depth + 1)}`);
      return `{${parts.join(',')}}`;
    };
    const out = {
      localStorage: Object.entries(localStorage).map(([k, v]) => `${k}=${v}`).join('\n'),
      sessionStorage: Object.entries(sessionStorage).map(([k, v]) => `${k}=${v}`).join('\n'),
      cookie: document.cookie,
      location: location.href,
      markup: document.documentElement.outerHTML,
      indexedDB: '',
      caches: '',
    };
    let stores = 0;
    let entries = 0;
    for (const { name } of await indexedDB.databases()) {
      const db = await new Promise((ok, fail) => {
        const r = indexedDB.open(name);
        r.onsuccess = () => ok(r.result);
        r.onerror = () => fail(r.error);
      });
      for (const store of db.objectStoreNames) {
        const all = (req) => new Promise((ok, fail) => { req.onsuccess = () => ok(req.result); req.onerror = () => fail(req.error); });
        const tx = db.transaction(store, 'readonly').objectStore(store);
        const [keys, values] = [await all(tx.getAllKeys()), await all(db.transaction(store, 'readonly').objectStore(store).getAll())];
        out.indexedDB += `${name}/${store}: ${await text(keys)} ${await text(values)}\n`;
        stores += 1;
      }
      db.close();
    }
    for (const name of await caches.keys()) {
      const cache = await caches.open(name);
      for (const request of await cache.keys()) {
        const response = await cache.match(request);
        const headers = [...request.headers, ...(response?.headers ?? [])].map(([k, v]) => `${k}: ${v}`).join('; ');
        out.caches += `${name} ${request.url} ${headers} ${response ? await response.text() : ''}\n`;
        entries += 1;
      }
    }
    return { texts: out, stores, entries };
  });
}

async function download(page, button) {
  const [file] = await Promise.all([page.waitForEvent('download'), page.click(button)]);
  return readFile(await file.path(), 'utf8');
}

function assertNoKey(where, text) {
  for (const key of KEYS) assert.ok(!text.includes(key), `${where} holds the key ${key.slice(0, 12)}…`);
  // Nor a recognisable part of it (base64, URL or JSON escaping would still carry this).
  assert.ok(!text.includes('LEAKCHECK'), `${where} holds part of a key`);
}

/** The page; `withModel`: the test model loaded (so the Cache API holds its files too). */
async function openEval(context, consoleLines, withModel) {
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => consoleLines.push(m.text()));
  page.on('worker', (w) => w.on('console', (m) => consoleLines.push(`[worker] ${m.text()}`)));
  await page.goto(withModel ? `${site.url}?model=test` : site.url);
  if (withModel) await page.waitForSelector('body[data-model="ready"]', { timeout: 600_000 });
  await page.waitForSelector('body[data-eval-storage]');
  return { page, errors };
}

async function runEval(page, origin, remember) {
  await page.setInputFiles('#eval-folder', FIXTURE);
  await page.waitForSelector('body[data-eval-rows="30"]');
  for (const [id, value] of [
    ['#target-base', `${origin}/v1`], ['#target-model', 'mock-target'], ['#target-key', TARGET_KEY],
    ['#judge-base', `${origin}/v1`], ['#judge-model', 'mock-judge'], ['#judge-key', JUDGE_KEY],
    ['#timeout', '20'], ['#concurrency', '8'],
  ]) await page.fill(id, value);
  if (remember) await page.check('#remember-keys');
  await page.click('#eval-start');
  await page.waitForSelector('body[data-eval-state="done"]', { timeout: 180_000 });
}

test('remember off: the keys are in no storage, address, export or console', async () => {
  const mock = await startMockApi({ faults: [{ row: 2, stage: 'target', fault: 'server_error' }] });
  const context = await launchChromium({ webgpu: false });
  await watchCsp(context);
  const consoleLines = [];
  try {
    const { page, errors } = await openEval(context, consoleLines, true);
    await runEval(page, mock.origin, false);
    const seen = await mock.seen();
    assert.ok(seen.every((s) => s.api_key === (s.stage === 'target' ? TARGET_KEY : JUDGE_KEY)), 'the keys reach the API');

    const exports = {
      official: await download(page, '#eval-export-official'),
      jsonl: await download(page, '#eval-export-jsonl'),
      csv: await download(page, '#eval-export-csv'),
    };
    for (const [name, text] of Object.entries(exports)) assertNoKey(`the ${name} export`, text);
    const { texts: dump, stores, entries } = await storageDump(page);
    for (const [where, text] of Object.entries(dump)) assertNoKey(where, text);
    assert.equal(dump.localStorage.includes('leakscope.eval.keys'), false);
    assert.ok(stores > 0, 'the run was stored in IndexedDB (and read back here)');
    assert.ok(entries > 0, 'the model files are in the Cache API (and read back here)');

    // After a reload the fields are empty and nothing stored holds a key.
    await page.reload();
    await page.waitForSelector('body[data-model="ready"]', { timeout: 600_000 });
    await page.waitForSelector('body[data-eval-storage]');
    assert.equal(await page.inputValue('#target-key'), '');
    assert.equal(await page.inputValue('#judge-key'), '');
    for (const [where, text] of Object.entries((await storageDump(page)).texts)) assertNoKey(`${where} after a reload`, text);
    assertNoKey('the console', consoleLines.join('\n'));
    assert.deepEqual(await page.evaluate(() => window.__cspViolations), []);
    assert.deepEqual(errors, []);
    console.log(`remember off: keys in none of localStorage, sessionStorage, cookies, ${stores} IndexedDB stores, ${entries} Cache API entries, the address, the markup, 3 exports, ${consoleLines.length} console lines`);
  } finally {
    await context.close();
    mock.close();
  }
});

test('remember on: only in localStorage, back after a reload, gone after "Forget keys"', async () => {
  const mock = await startMockApi({});
  const context = await launchChromium({ webgpu: false });
  const consoleLines = [];
  try {
    const { page, errors } = await openEval(context, consoleLines, false);
    await runEval(page, mock.origin, true);
    let dump = (await storageDump(page)).texts;
    const entry = await page.evaluate(() => localStorage.getItem('leakscope.eval.keys'));
    assert.deepEqual(JSON.parse(entry), KEYS, 'kept where the page says');
    const others = dump.localStorage.split('\n').filter((l) => !l.startsWith('leakscope.eval.keys='));
    assertNoKey('other localStorage entries', others.join('\n'));
    for (const [where, text] of Object.entries(dump)) if (where !== 'localStorage') assertNoKey(where, text);
    assertNoKey('the jsonl export', await download(page, '#eval-export-jsonl'));

    await page.reload();
    await page.waitForSelector('body[data-eval-storage]');
    assert.equal(await page.inputValue('#target-key'), TARGET_KEY, 'remembered');
    assert.equal(await page.isChecked('#remember-keys'), true);

    await page.click('#forget-keys');
    assert.match(await page.textContent('#eval-message'), /Keys forgotten/);
    assert.equal(await page.inputValue('#target-key'), '');
    dump = (await storageDump(page)).texts;
    for (const [where, text] of Object.entries(dump)) assertNoKey(`${where} after "Forget keys"`, text);
    await page.reload();
    await page.waitForSelector('body[data-eval-storage]');
    assert.equal(await page.inputValue('#judge-key'), '', 'forgotten for good');
    assertNoKey('the console', consoleLines.join('\n'));
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
    mock.close();
  }
});
