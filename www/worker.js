// The model worker: the same wasm module as the page. Its start function sees a worker scope
// and serves model requests instead of drawing the page (src/web/worker/mod.rs).
import init from './leakscope.js';

await init({ module_or_path: new URL('./leakscope_bg.wasm', import.meta.url) });
