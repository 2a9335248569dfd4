// The model worker: the same wasm module as the page (the build www/boot.js chose, named by
// `?build=threads` in this script's address). Its start function sees a worker scope and
// serves model requests instead of drawing the page (src/web/worker/mod.rs).
//
// The page posts its compiled module as the first message (src/web/client.rs): the worker
// neither downloads nor compiles the wasm a second time while the page draws its first results.
// A first message without one (or from another version of the page) loads it from its address.
const firstMessage = new Promise((ok) => self.addEventListener('message', (e) => ok(e.data), { once: true }));
const dir = new URL(import.meta.url).searchParams.get('build') === 'threads' ? './threads/' : './';
const glue = await import(`${dir}leakscope.js`);
const first = await firstMessage;
const module = first?.module instanceof WebAssembly.Module
  ? first.module
  : new URL(`${dir}leakscope_bg.wasm`, import.meta.url);
await glue.default({ module_or_path: module });
