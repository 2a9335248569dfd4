// Starts the wasm module. A file, not an inline script, so the page's Content-Security-Policy
// can forbid inline scripts entirely (script-src 'self'). Trunk builds leakscope.js and
// leakscope_bg.wasm beside this file (Trunk.toml: filehash = false, inject_scripts = false).
import init from './leakscope.js';

await init({ module_or_path: new URL('./leakscope_bg.wasm', import.meta.url) });
