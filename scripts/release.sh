#!/usr/bin/env bash
# The optimised page in dist/ (`make release`): trunk's release build with Cargo's `web-release`
# profile (size-first, see Cargo.toml), which also builds the threaded variant into
# dist/threads/ (Trunk.toml's post_build hook, scripts/build-threads.sh), then binaryen's
# wasm-opt -Oz on each module. Checks that each carries wasm SIMD (tests/e2e/wasm_simd.mjs) and
# prints its size raw and gzipped, the figures BENCHMARKS.md tracks.
#
#   scripts/release.sh            dist/ (single-threaded + threads/)
#   scripts/release.sh --scalar   target/dist-scalar/: the page without simd128 (and so without
#                                 Burn's `simd`), single-threaded, as it was before wasm SIMD:
#                                 the reference of `make bench-browser`. Its own target
#                                 directory ($CARGO_TARGET_DIR/scalar): other flags, other
#                                 artifacts.
#
# wasm-opt comes from npm's binaryen@132, installed into target/tools/ the first time (set
# WASM_OPT=/path/to/wasm-opt to use another, WASM_OPT=none to skip it). Never Debian's binaryen
# package: its older wasm-opt breaks this module.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

size() { printf '%s bytes raw, %s bytes gzipped (-9)' "$(stat -c %s "$1")" "$(gzip -9c "$1" | wc -c)"; }

if [ "${1:-}" = "--scalar" ]; then
  dist=target/dist-scalar
  # An empty CARGO_ENCODED_RUSTFLAGS replaces .cargo/config.toml's +simd128 (Cargo.toml then
  # leaves Burn's `simd` off too); no threaded variant.
  CARGO_ENCODED_RUSTFLAGS='' LEAKSCOPE_THREADS=0 \
    CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}/scalar" trunk build --release --dist "$dist"
  modules=("$dist/leakscope_bg.wasm")
  simd_min=0
else
  dist=dist
  trunk build --release
  modules=("$dist/leakscope_bg.wasm")
  [ -f "$dist/threads/leakscope_bg.wasm" ] && modules+=("$dist/threads/leakscope_bg.wasm")
  simd_min=
fi

for wasm in "${modules[@]}"; do
  echo "after trunk:    $wasm: $(size "$wasm")"
done

WASM_OPT=${WASM_OPT:-}
if [ "$WASM_OPT" != none ]; then
  if [ -z "$WASM_OPT" ]; then
    tools=target/tools/binaryen
    if [ ! -x "$tools/node_modules/.bin/wasm-opt" ]; then
      echo "installing npm's binaryen@132 into $tools (once)"
      npm install --silent --no-save --prefix "$tools" binaryen@132
    fi
    WASM_OPT=$tools/node_modules/.bin/wasm-opt
  fi
  for wasm in "${modules[@]}"; do
    # The features rustc's wasm32 target emits by default (Rust ≥ 1.82), plus SIMD where the
    # build has simd128 and threads (atomics, shared memory) in threads/: wasm-opt must be
    # told, as wasm-bindgen drops the section that would name them.
    features=(--enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext
      --enable-mutable-globals --enable-reference-types --enable-multivalue)
    [ "$simd_min" != 0 ] && features+=(--enable-simd)
    case "$wasm" in */threads/*) features+=(--enable-threads) ;; esac
    "$WASM_OPT" -Oz --strip-debug --strip-producers "${features[@]}" "$wasm" -o "$wasm.opt"
    mv "$wasm.opt" "$wasm"
    echo "after wasm-opt: $wasm: $(size "$wasm")"
  done
fi

# Each module's SIMD instructions (the scalar page's count is the baseline the check's bar sits
# well above).
node tests/e2e/wasm_simd.mjs ${simd_min:+--min "$simd_min"} "${modules[@]}"
