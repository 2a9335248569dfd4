// Both builds of the page's module really carry wasm SIMD: thousands of 0xFD-prefixed
// instructions, decoded function by function (wasm_simd.mjs). A module built without simd128
// still has a few thousand (3,850 in release: gemm's simd128 micro-kernels, compiled but never
// chosen there), so the bar (MIN_SIMD) is set well above that (figures in BENCHMARKS.md).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DIST } from './harness.mjs';
import { countSimd, MIN_SIMD } from './wasm_simd.mjs';

for (const [build, file] of [['single-threaded', 'leakscope_bg.wasm'], ['threaded', 'threads/leakscope_bg.wasm']]) {
  test(`the ${build} module is built with SIMD`, () => {
    const path = join(DIST, file);
    assert.ok(existsSync(path), `${path} is missing: trunk build (its post_build hook makes threads/)`);
    const t = countSimd(readFileSync(path));
    console.log(`${file}: ${t.simd} SIMD instructions in ${t.withSimd} of ${t.functions} functions`);
    assert.ok(t.simd >= MIN_SIMD, `${file}: ${t.simd} SIMD instructions, fewer than ${MIN_SIMD}`);
  });
}
