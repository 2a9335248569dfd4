// Starts the wasm module. A file, not an inline script, so the page's Content-Security-Policy
// can forbid inline scripts entirely (script-src 'self'). Trunk builds leakscope.js and
// leakscope_bg.wasm beside this file (Trunk.toml: filehash = false, inject_scripts = false),
// and scripts/build-threads.sh the threaded build in threads/.
//
// Which build runs (the page compiles it and posts the module to its model worker,
// src/web/client.rs):
// - the threaded one (the CPU backend on a pool of Web Workers, wasm SIMD) where the CPU
//   backend will run (no WebGPU adapter answers, or `?cpu`) and the page is cross-origin
//   isolated, which shared wasm memory needs; it has no GPU backend (wgpu does not build with
//   wasm threads), so it is never loaded where WebGPU works;
// - the single-threaded one (WebGPU, or the CPU backend on one thread with SIMD) everywhere
//   else, and whenever the threaded one cannot load.
// `?threads=0` forces the single-threaded build; `?threads=N` sizes the pool (src/web/page.rs).
//
// Isolation comes from the server's headers (COOP same-origin + COEP require-corp) where it
// sends them, else from www/sw.js: registered on the first visit, then the page reloads once
// (before any module is compiled; a download begun is dropped) so the service worker's
// headers apply. A browser without service workers, or one that ignores their headers, stays
// single-threaded.
const params = new URLSearchParams(location.search);
const RELOADED = 'leakscope-isolation-reload';

async function webgpuAdapter() {
  try {
    return Boolean(await navigator.gpu?.requestAdapter());
  } catch {
    return false;
  }
}

/** Makes the page cross-origin isolated through sw.js; resolves only if it does not reload. */
async function isolate() {
  if (self.crossOriginIsolated || !self.isSecureContext || !('serviceWorker' in navigator)) return;
  try {
    const registration = await navigator.serviceWorker.register(new URL('./sw.js', import.meta.url));
    // Controlled already but not isolated: this browser ignores the worker's headers. Reloaded
    // once in this tab already: the same. No registration: service workers are blocked.
    if (!registration || navigator.serviceWorker.controller || sessionStorage.getItem(RELOADED)) return;
    // First visit: wait until the worker takes this page over (a worker already active but
    // not in control, after a reload that bypassed it, takes over on the reload itself).
    if (!registration.active) {
      const controlled = await Promise.race([
        new Promise((ok) => navigator.serviceWorker.addEventListener('controllerchange', () => ok(true), { once: true })),
        new Promise((ok) => setTimeout(() => ok(false), 5000)),
      ]);
      if (!controlled) return;
    }
    sessionStorage.setItem(RELOADED, '1');
    location.reload();
    await new Promise(() => {});
  } catch (e) {
    console.warn('leakscope: no cross-origin isolation through the service worker:', e);
  }
}

/** The build in `dir`: its glue and its module's download, started at once. */
function fetchBuild(dir) {
  return {
    glue: import(`${dir}leakscope.js`),
    wasm: fetch(new URL(`${dir}leakscope_bg.wasm`, import.meta.url)),
  };
}

async function load(dir, started = fetchBuild(dir)) {
  const glue = await started.glue;
  // A promise of the response: the glue compiles the module as it streams in.
  await glue.default({ module_or_path: started.wasm });
}

const threadsAllowed = params.get('threads') !== '0';
// Where the page is not cross-origin isolated (or threads are off), the single-threaded build is
// the one that runs, unless sw.js reloads the page below: its download starts now, alongside
// the WebGPU probe, not after it (a reload just drops it).
const single = !self.crossOriginIsolated || !threadsAllowed ? fetchBuild('./') : undefined;
// Nobody waits on these until the build is chosen: keep a failed early download quiet until then.
single?.glue.catch(() => {});
single?.wasm.catch(() => {});
const cpu = threadsAllowed && (params.has('cpu') || !(await webgpuAdapter()));
if (cpu) await isolate();
const threaded = cpu && self.crossOriginIsolated && typeof SharedArrayBuffer === 'function';
document.documentElement.dataset.build = threaded ? 'threads' : 'single';
if (threaded) {
  try {
    await load('./threads/');
  } catch (e) {
    console.warn('leakscope: the threaded build did not load; single-threaded instead:', e);
    document.documentElement.dataset.build = 'single';
    await load('./');
  }
} else {
  await load('./', single);
}
