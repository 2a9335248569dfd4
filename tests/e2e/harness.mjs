// Shared pieces of the page-level tests: a static server for trunk's dist/ on 127.0.0.1 and
// Debian's Chromium driven by playwright-core (which never downloads a browser).
import { createServer } from 'node:http';
import { gzipSync } from 'node:zlib';
import { readFile, mkdtemp, mkdir, rm } from 'node:fs/promises';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { extname, join, normalize, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { chromium } from 'playwright-core';

const ROOT = resolve(import.meta.dirname, '..', '..');
export const DIST = join(ROOT, 'dist');
export const ARTIFACTS = join(ROOT, 'target', 'e2e-artifacts');

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.wasm': 'application/wasm',
  '.css': 'text/css',
  '.json': 'application/json',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
};

/** The headers that make a page cross-origin isolated (what www/sw.js adds on a static host). */
export const ISOLATION_HEADERS = {
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-embedder-policy': 'require-corp',
};

/**
 * Serve `dir` on an ephemeral 127.0.0.1 port; resolves to { url, close }. `gzip`: compress
 * text, JSON and wasm for clients that accept it, as static hosts (GitHub Pages) do.
 * `isolated` sends COOP/COEP with every file, as a server configured for the threaded build
 * does.
 */
export async function serveStatic(dir = DIST, { gzip = false, isolated = false } = {}) {
  const compressed = new Map();
  const extra = isolated ? ISOLATION_HEADERS : {};
  const seen = [];
  const server = createServer(async (req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url, 'http://x').pathname));
    seen.push(path);
    const file = join(dir, path.endsWith('/') ? join(path, 'index.html') : path);
    if (!file.startsWith(dir)) { res.writeHead(403).end(); return; }
    try {
      let body = await readFile(file);
      const headers = { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', ...extra };
      const compressible = ['.wasm', '.js', '.json', '.html', '.css', '.svg'].includes(extname(file));
      if (gzip && compressible && /\bgzip\b/.test(req.headers['accept-encoding'] ?? '')) {
        if (!compressed.has(file)) compressed.set(file, gzipSync(body, { level: 6 }));
        body = compressed.get(file);
        headers['content-encoding'] = 'gzip';
      }
      res.writeHead(200, headers);
      res.end(body);
    } catch {
      res.writeHead(404).end('not found');
    }
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}/`,
    /** The paths asked for so far, in order. */
    seen: () => [...seen],
    close: () => new Promise((ok) => server.close(ok)),
  };
}

/**
 * Debian's Chromium, headless, with a fresh profile (or `userDataDir`, to reuse one); `webgpu`
 * adds --enable-unsafe-webgpu. Service workers are blocked unless `serviceWorkers: 'allow'`:
 * a page test gets the isolation it asked for from its server (`serveStatic(…, { isolated })`),
 * not from www/sw.js and a reload behind its back (threads.test.mjs tests that path).
 */
export async function launchChromium({ webgpu, userDataDir = null, serviceWorkers = 'block' }) {
  // A profile made here is removed on close (each holds ~100 MB of caches).
  const own = userDataDir === null;
  userDataDir ??= await mkdtemp(join(tmpdir(), 'leakscope-e2e-'));
  const args = [
    '--headless=new', '--no-sandbox', '--disable-dev-shm-usage',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--no-first-run', '--disable-quic',
  ];
  if (webgpu) args.push('--enable-unsafe-webgpu');
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args,
    serviceWorkers,
  });
  if (own) {
    const close = context.close.bind(context);
    context.close = async (...options) => {
      await close(...options);
      await rm(userDataDir, { recursive: true, force: true });
    };
  }
  return context;
}

/** Save a screenshot under target/e2e-artifacts/ and return its path. */
/** The whole page, or the element `selector` names, as target/e2e-artifacts/<name>.png. */
export async function screenshot(page, name, selector) {
  await mkdir(ARTIFACTS, { recursive: true });
  const path = join(ARTIFACTS, `${name}.png`);
  if (selector) await page.locator(selector).screenshot({ path });
  else await page.screenshot({ path, fullPage: true });
  return path;
}

/** Records Content-Security-Policy violations in `window.__cspViolations` from the first script on. */
export async function watchCsp(context) {
  await context.addInitScript(() => {
    window.__cspViolations = [];
    document.addEventListener('securitypolicyviolation', (e) => {
      window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`);
    });
  });
}

export const MOCK_SERVER = join(ROOT, 'target', 'debug', 'examples', 'openai_mock_server');

/**
 * The Rust mock of an OpenAI-compatible API (examples/openai_mock_server.rs, built by
 * scripts/test.sh) with a fault script; resolves to { origin, seen(), paid(), violations(),
 * release(), close() }.
 */
export async function startMockApi(script = {}) {
  const dir = await mkdtemp(join(tmpdir(), 'leakscope-mock-'));
  const scriptPath = join(dir, 'script.json');
  await (await import('node:fs/promises')).writeFile(scriptPath, JSON.stringify(script));
  const child = spawn(MOCK_SERVER, ['--script', scriptPath], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout });
  const origin = await new Promise((ok, fail) => {
    child.once('error', fail);
    child.once('exit', (code) => fail(new Error(`mock server exited with ${code}`)));
    lines.once('line', ok);
  });
  const get = async (path, method = 'GET') => {
    const text = await (await fetch(`${origin}${path}`, { method })).text();
    try { return JSON.parse(text); } catch { return text; }
  };
  return {
    origin,
    seen: () => get('/__seen'),
    paid: () => get('/__paid'),
    violations: () => get('/__violations'),
    release: () => get('/__release', 'POST'),
    close: () => { child.kill(); },
  };
}
