// Model loading in the real browser: the built page (headless Chromium, another origin than
// the model server, so CORS is exercised) drives the loader through its test hook
// (__test_load_checkpoint in src/web/hub/mod.rs) against hf_server.mjs serving
// tests/fixtures/tiny-clip in Hugging Face's layout: streamed fetch, Cache API, progress,
// a connection dropped mid-file and resumed with Range, 404 fallbacks, a gated repo, and text
// first with byte ranges for a checkpoint whose text tower is not its first bytes.
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir, mkdtemp, writeFile, copyFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { serveStatic, launchChromium } from './harness.mjs';
import { startHfServer, sha256 } from './hf_server.mjs';

const TINY = resolve(import.meta.dirname, '..', 'fixtures', 'tiny-clip');
const FILES = ['config.json', 'vocab.json', 'merges.txt', 'preprocessor_config.json', 'model.safetensors'];
const WEIGHTS = 'model.safetensors';

let site, hf, context, page;
const digests = {};

before(async () => {
  for (const f of FILES) digests[f] = sha256(await readFile(join(TINY, f)));
  site = await serveStatic();
  hf = await startHfServer({ folder: TINY });
  context = await launchChromium({ webgpu: false });
  page = await context.newPage();
  page.on('pageerror', (e) => console.error('page error:', e));
  await page.goto(site.url);
});

after(async () => {
  await context?.close();
  await hf?.close();
  await site?.close();
});

/** Calls an export of the page's wasm module; { ok: parsed JSON } or { error: message }. */
async function call(name, ...args) {
  return page.evaluate(async ([name, args]) => {
    await import(new URL('boot.js', location.href).href); // resolves once the module is initialised
    const wasm = await import(new URL('leakscope.js', location.href).href);
    try {
      const out = await wasm[name](...args);
      return { ok: typeof out === 'string' ? JSON.parse(out) : out };
    } catch (e) {
      return { error: String(e?.message ?? e) };
    }
  }, [name, args]);
}

const scopeOf = (server) => `${server.endpoint}/${server.repo}@${server.revision}`;
const load = (server, options = {}) =>
  call('__test_load_checkpoint', `${server.endpoint}/${server.repo}/resolve/${server.revision}/`, '',
    JSON.stringify({ retry_delay_ms: 10, ...options }));

beforeEach(async () => {
  await call('__test_delete_cached', scopeOf(hf));
  hf.reset();
});

test('a first load streams every file into the cache; the second sends no request', async () => {
  const first = await load(hf);
  assert.ok(first.ok, first.error);
  for (const f of FILES) assert.equal(first.ok.checkpoint[f], digests[f], f);
  const model = first.ok.files.find((r) => r.file === WEIGHTS);
  assert.equal(model.verified_by, "the hub's listing");
  assert.equal(first.ok.first.total_known, true, 'the listing gives the total up front');
  assert.equal(hf.seen().length, 6, JSON.stringify(hf.seen()));

  const cached = await call('__test_cached_models');
  const entry = cached.ok.models.find((m) => m.scope === scopeOf(hf));
  assert.ok(entry?.complete, JSON.stringify(cached.ok));
  assert.ok(cached.ok.estimate === null || cached.ok.estimate.usage > 0);

  const second = await load(hf);
  assert.ok(second.ok, second.error);
  assert.equal(hf.seen().length, 6, 'a cached model needs no request');
  assert.ok(second.ok.files.every((r) => r.from_cache));
  for (const f of FILES) assert.equal(second.ok.checkpoint[f], digests[f], f);
  assert.match(second.ok.last_line, /from the cache/);

  const removed = await call('__test_delete_cached', scopeOf(hf));
  assert.equal(removed.ok, 6);
});

test('a connection dropped mid-file resumes with Range and the bytes are identical', async () => {
  hf.fault(WEIGHTS, { type: 'drop', after: 400_000 });
  const result = await load(hf, { no_listing: true });
  assert.ok(result.ok, result.error);
  assert.equal(result.ok.checkpoint[WEIGHTS], digests[WEIGHTS]);
  const requests = hf.seenFor(WEIGHTS);
  assert.equal(requests.length, 2, JSON.stringify(requests));
  assert.equal(requests[0].sent, 400_000);
  // The browser may have received less than the server wrote before the socket went.
  const resumedAt = Number(/^bytes=(\d+)-$/.exec(requests[1].range)?.[1]);
  assert.ok(resumedAt > 0 && resumedAt <= 400_000, requests[1].range);
  assert.equal(requests[1].status, 206);
  const model = result.ok.files.find((r) => r.file === WEIGHTS);
  assert.deepEqual(model.resumed_at, [resumedAt]);
  assert.equal(model.restarts, 0);
  assert.equal(model.network_bytes, requests[0].sent + requests[1].sent - (400_000 - resumedAt));
  assert.equal(model.verified_by, "the server's ETag");
  assert.equal(result.ok.retries, 1);
  assert.ok(result.ok.notes.some((n) => /resuming at/.test(n)), JSON.stringify(result.ok.notes));
});

test('a stalled connection is given up and resumed', async () => {
  hf.fault(WEIGHTS, { type: 'stall', after: 300_000, ms: 5_000 });
  const result = await load(hf, { stall_ms: 500 });
  assert.ok(result.ok, result.error);
  assert.equal(result.ok.checkpoint[WEIGHTS], digests[WEIGHTS]);
  assert.ok(hf.seenFor(WEIGHTS)[1].range?.startsWith('bytes='), JSON.stringify(hf.seenFor(WEIGHTS)));
});

test('vocab.json missing: tokenizer.json is fetched instead; missing weights say what to do', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'leakscope-hub-'));
  for (const f of ['config.json', 'preprocessor_config.json', WEIGHTS, 'merges.txt']) {
    await copyFile(join(TINY, f), join(dir, f));
  }
  const vocab = JSON.parse(await readFile(join(TINY, 'vocab.json'), 'utf8'));
  const merges = (await readFile(join(TINY, 'merges.txt'), 'utf8'))
    .split('\n').filter((l) => l && !l.startsWith('#version'));
  await writeFile(join(dir, 'tokenizer.json'), JSON.stringify({ model: { type: 'BPE', vocab, merges } }));
  assert.ok((await readdir(dir)).includes('tokenizer.json'));
  const other = await startHfServer({ folder: dir, listing: false });
  try {
    const result = await load(other);
    assert.ok(result.ok, result.error);
    assert.deepEqual(result.ok.missing, ['vocab.json']);
    assert.ok(result.ok.checkpoint['tokenizer.json']);
    assert.equal(result.ok.checkpoint['vocab.json'], undefined);
    assert.equal(other.seenFor('merges.txt').length, 0);

    other.missing(WEIGHTS);
    await call('__test_delete_cached', scopeOf(other));
    const failed = await load(other);
    assert.match(failed.error ?? '', /model\.safetensors was not found .*404.*leakscope convert/);
  } finally {
    await call('__test_delete_cached', scopeOf(other));
    await other.close();
  }
});

test('a gated repo asks for a token; with it the load works through the CORS preflight', async () => {
  const gated = await startHfServer({ folder: TINY, token: 'hf_right' });
  try {
    const refused = await load(gated);
    assert.match(refused.error ?? '', /needs a login \(401\).*access token/);
    const wrong = await load(gated, { token: 'hf_wrong' });
    assert.match(wrong.error ?? '', /denied access \(403\).*accept its conditions/);
    const ok = await load(gated, { token: 'hf_right' });
    assert.ok(ok.ok, ok.error);
    assert.equal(ok.ok.checkpoint[WEIGHTS], digests[WEIGHTS]);
    assert.ok(gated.seenFor(WEIGHTS).every((s) => s.authorization === 'Bearer hf_right'));
  } finally {
    await call('__test_delete_cached', scopeOf(gated));
    await gated.close();
  }
});

test('a wrong sha256 is refused', async () => {
  const result = await load(hf, { sha256: { [WEIGHTS]: 'ab'.repeat(32) } });
  assert.match(result.error ?? '', /is not the expected file: its sha256 is [0-9a-f]{64}, expected (ab){32} \(from you\)/);
});

/** tiny-clip's weights with the vision tower first, then logit_scale, then the text tower. */
function visionFirst(bytes) {
  const n = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + n).toString('utf8'));
  const rank = (name) => (/^vision_model|^visual_projection/.test(name) ? 0 : name === 'logit_scale' ? 1 : 2);
  const names = Object.keys(header).filter((k) => k !== '__metadata__')
    .sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
  const out = {};
  const data = [];
  let at = 0;
  let textStart = null;
  for (const name of names) {
    const t = header[name];
    const part = bytes.subarray(8 + n + t.data_offsets[0], 8 + n + t.data_offsets[1]);
    if (rank(name) > 0 && textStart === null) textStart = at;
    out[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [at, at + part.length] };
    data.push(part);
    at += part.length;
  }
  let json = JSON.stringify(out);
  json += ' '.repeat((8 - (json.length % 8)) % 8);
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(json.length));
  const headerEnd = 8 + json.length;
  return { bytes: Buffer.concat([length, Buffer.from(json), ...data]), headerEnd, textStart: headerEnd + textStart };
}

test('text first by ranges: the header, the text tower, then the vision tower, checked whole', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'leakscope-hub-'));
  for (const f of FILES.filter((f) => f !== WEIGHTS)) await copyFile(join(TINY, f), join(dir, f));
  const { bytes, headerEnd, textStart } = visionFirst(await readFile(join(TINY, WEIGHTS)));
  await writeFile(join(dir, WEIGHTS), bytes);
  const other = await startHfServer({ folder: dir });
  // The first answer stops after the header (on loopback the browser may otherwise hand the
  // whole file over in one chunk, and then there is nothing left to ask ranges for).
  other.hold(WEIGHTS, headerEnd, { requests: 1 });
  try {
    const result = await load(other, { text_first: true });
    assert.ok(result.ok, result.error);
    assert.equal(result.ok.checkpoint[WEIGHTS], sha256(bytes));
    assert.deepEqual(result.ok.text_first, { handed_over: true, stale: false });
    assert.equal(result.ok.text_parts.length, 1);
    const ranges = other.seenFor(WEIGHTS).map((r) => [r.range, r.status]);
    assert.equal(ranges.length, 3, JSON.stringify(ranges));
    assert.deepEqual(ranges[0], ['bytes=0-', 206]);
    assert.deepEqual(ranges[1], [`bytes=${textStart}-${bytes.length - 1}`, 206]);
    assert.match(ranges[2][0], new RegExp(`^bytes=\\d+-${textStart - 1}$`));
    const model = result.ok.files.find((r) => r.file === WEIGHTS);
    assert.equal(model.verified_by, "the hub's listing");
  } finally {
    await call('__test_delete_cached', scopeOf(other));
    await other.close();
  }
});
