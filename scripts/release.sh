#!/usr/bin/env bash
# The optimised page in dist/ (`make release`): trunk's release build with Cargo's `web-release`
# profile (size-first, see Cargo.toml), then binaryen's wasm-opt -Oz on the module. Prints the
# module's size raw and gzipped, the figure BENCHMARKS.md tracks.
#
# wasm-opt comes from npm's binaryen@132, installed into target/tools/ the first time (set
# WASM_OPT=/path/to/wasm-opt to use another, WASM_OPT=none to skip it). Never Debian's binaryen
# package: its older wasm-opt breaks this module.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

trunk build --release

wasm=dist/leakscope_bg.wasm
size() { printf '%s bytes raw, %s bytes gzipped (-9)' "$(stat -c %s "$1")" "$(gzip -9c "$1" | wc -c)"; }
echo "after trunk:    $(size "$wasm")"

WASM_OPT=${WASM_OPT:-}
if [ "$WASM_OPT" = none ]; then
  exit 0
fi
if [ -z "$WASM_OPT" ]; then
  tools=target/tools/binaryen
  if [ ! -x "$tools/node_modules/.bin/wasm-opt" ]; then
    echo "installing npm's binaryen@132 into $tools (once)"
    npm install --silent --no-save --prefix "$tools" binaryen@132
  fi
  WASM_OPT=$tools/node_modules/.bin/wasm-opt
fi
# The features rustc's wasm32 target emits by default (Rust ≥ 1.82); wasm-opt must be told, as
# wasm-bindgen drops the section that would name them.
"$WASM_OPT" -Oz --strip-debug --strip-producers \
  --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
  --enable-mutable-globals --enable-reference-types --enable-multivalue \
  "$wasm" -o "$wasm.opt"
mv "$wasm.opt" "$wasm"
echo "after wasm-opt: $(size "$wasm")"
