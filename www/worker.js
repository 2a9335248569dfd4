// The model worker: the same wasm module as the page (the build www/boot.js chose, named by
// `?build=threads` in this script's address). Its start function sees a worker scope and
// serves model requests instead of drawing the page (src/web/worker/mod.rs).
const dir = new URL(import.meta.url).searchParams.get('build') === 'threads' ? './threads/' : './';
const glue = await import(`${dir}leakscope.js`);
await glue.default({ module_or_path: new URL(`${dir}leakscope_bg.wasm`, import.meta.url) });
