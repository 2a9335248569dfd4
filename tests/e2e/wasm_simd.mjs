// Counts the 128-bit SIMD instructions (the 0xFD-prefixed ones: v128 loads and stores, f32x4
// arithmetic, shuffles…) in a wasm module by decoding every function body, instruction by
// instruction; no tool outside Node. The page's builds must contain thousands of them
// (simd.test.mjs, scripts/release.sh): flex's element-wise kernels only vectorise when the
// module is built with simd128 (.cargo/config.toml), and gemm's simd128 micro-kernels only run
// with Burn's `simd` feature.
//
//   node tests/e2e/wasm_simd.mjs dist/leakscope_bg.wasm [--min N]   (default MIN_SIMD)
//
// prints `<file>: <simd> SIMD instructions in <functions> of <total> functions (<all> in all)`
// and exits 1 when the count is under --min.
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

/**
 * The fewest SIMD instructions a page module may have: well above the 3,850 of the release page
 * built without simd128 (gemm's simd128 kernels are compiled in either way) and well below the
 * fewest of a SIMD build (15,681, the threaded debug module; figures in BENCHMARKS.md).
 */
export const MIN_SIMD = 10_000;

class Reader {
  constructor(bytes, pos = 0) { this.b = bytes; this.pos = pos; }
  byte() {
    if (this.pos >= this.b.length) throw new Error('unexpected end of the module');
    return this.b[this.pos++];
  }
  /** Unsigned or signed LEB128; only its length matters where it is skipped. */
  leb() {
    let result = 0n, shift = 0n, byte;
    do { byte = this.byte(); result |= BigInt(byte & 0x7f) << shift; shift += 7n; } while (byte & 0x80);
    return result;
  }
  u32() { return Number(this.leb()); }
  skip(n) { this.pos += n; }
}

// Value types that stand alone as a block type (i32 i64 f32 f64 v128 funcref externref).
const VALTYPES = new Set([0x7f, 0x7e, 0x7d, 0x7c, 0x7b, 0x70, 0x6f]);

function blockType(r) {
  const first = r.b[r.pos];
  if (first === 0x40 || VALTYPES.has(first)) r.skip(1);
  else r.leb(); // a type index (s33)
}

function memarg(r) {
  const align = r.u32();
  if (align & 0x40) r.u32(); // multi-memory: the memory index follows
  r.u32(); // offset
}

/** Skips one instruction's immediates after its opcode; returns 'simd' for a 0xFD one. */
function instruction(r, op) {
  if (op >= 0x28 && op <= 0x3e) return memarg(r);
  if (op >= 0x45 && op <= 0xc4) return; // numeric, sign extension: no immediates
  switch (op) {
    case 0x00: case 0x01: case 0x05: case 0x0a: case 0x0b: case 0x0f: case 0x19: case 0x1a:
    case 0x1b: case 0xd1: case 0xd3: case 0xd4:
      return;
    case 0x02: case 0x03: case 0x04: case 0x06: return blockType(r);
    case 0x07: case 0x08: case 0x09: case 0x0c: case 0x0d: case 0x10: case 0x12: case 0x18:
    case 0x20: case 0x21: case 0x22: case 0x23: case 0x24: case 0x25: case 0x26: case 0x3f:
    case 0x40: case 0xd2: case 0xd5: case 0xd6:
      r.u32(); return;
    case 0x0e: { const n = r.u32(); for (let i = 0; i <= n; i++) r.u32(); return; }
    case 0x11: case 0x13: r.u32(); r.u32(); return;
    case 0x1c: { const n = r.u32(); r.skip(n); return; }
    case 0x1f: { // try_table: block type, then catch clauses
      blockType(r);
      const n = r.u32();
      for (let i = 0; i < n; i++) { const kind = r.byte(); if (kind < 2) r.u32(); r.u32(); }
      return;
    }
    case 0x41: case 0x42: case 0xd0: r.leb(); return;
    case 0x43: r.skip(4); return;
    case 0x44: r.skip(8); return;
    case 0xfc: return misc(r, r.u32());
    case 0xfd: simd(r, r.u32()); return 'simd';
    case 0xfe: return atomic(r, r.u32());
    default: throw new Error(`unknown opcode 0x${op.toString(16)} at byte ${r.pos - 1}`);
  }
}

function misc(r, sub) {
  if (sub <= 7) return; // saturating truncations
  switch (sub) {
    case 8: case 10: case 12: case 14: r.u32(); r.u32(); return; // memory.init/copy, table.init/copy
    case 9: case 11: case 13: case 15: case 16: case 17: r.u32(); return;
    default: throw new Error(`unknown 0xFC ${sub} at byte ${r.pos}`);
  }
}

function simd(r, sub) {
  if (sub <= 11 || sub === 92 || sub === 93) return memarg(r); // loads, store, load_zero
  if (sub === 12 || sub === 13) return r.skip(16); // v128.const, i8x16.shuffle
  if (sub >= 21 && sub <= 34) return r.skip(1); // extract/replace lane
  if (sub >= 84 && sub <= 91) { memarg(r); r.skip(1); } // load/store lane
  // everything else (arithmetic, comparisons, conversions, relaxed SIMD): no immediates
}

function atomic(r, sub) {
  if (sub === 3) return r.skip(1); // atomic.fence
  memarg(r);
}

/** `{ simd, instructions, functions, withSimd }` of a wasm module's bytes. */
export function countSimd(bytes) {
  const r = new Reader(bytes);
  if (r.b.length < 8 || r.b[0] !== 0 || r.b[1] !== 0x61 || r.b[2] !== 0x73 || r.b[3] !== 0x6d) {
    throw new Error('not a wasm module');
  }
  r.skip(8);
  const totals = { simd: 0, instructions: 0, functions: 0, withSimd: 0 };
  while (r.pos < r.b.length) {
    const id = r.byte();
    const size = r.u32();
    const end = r.pos + size;
    if (id === 10) {
      const count = r.u32();
      for (let f = 0; f < count; f++) {
        const bodySize = r.u32();
        const bodyEnd = r.pos + bodySize;
        const groups = r.u32();
        for (let g = 0; g < groups; g++) { r.u32(); r.leb(); } // count, value type
        let simdHere = 0;
        while (r.pos < bodyEnd) {
          const kind = instruction(r, r.byte());
          totals.instructions++;
          if (kind === 'simd') simdHere++;
        }
        if (r.pos !== bodyEnd) throw new Error(`function ${f} decoded past its end`);
        totals.functions++;
        totals.simd += simdHere;
        if (simdHere) totals.withSimd++;
      }
    }
    r.pos = end;
  }
  return totals;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const i = process.argv.indexOf('--min');
  const min = i > 0 ? Number(process.argv[i + 1]) : MIN_SIMD;
  const files = process.argv.slice(2).filter((a, j, all) => a !== '--min' && all[j - 1] !== '--min');
  let failed = false;
  for (const file of files) {
    const t = countSimd(readFileSync(file));
    console.log(`${file}: ${t.simd} SIMD instructions in ${t.withSimd} of ${t.functions} functions (${t.instructions} in all)`);
    if (t.simd < min) {
      console.error(`${file}: fewer than ${min} SIMD instructions: was it built without simd128?`);
      failed = true;
    }
  }
  process.exit(failed ? 1 : 0);
}
