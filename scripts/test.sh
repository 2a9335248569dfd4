#!/usr/bin/env bash
# Every leakscope check, in order, failing fast. `make test` runs this after scripts/setup.sh;
# .ci/run calls `make test`.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
export CHROMEDRIVER=${CHROMEDRIVER:-/usr/bin/chromedriver}
# Model-sized tests in a software WebGPU (SwiftShader) need more than the default 20 s.
export WASM_BINDGEN_TEST_TIMEOUT=${WASM_BINDGEN_TEST_TIMEOUT:-300}
WASM=(--target wasm32-unknown-unknown --no-default-features)

started=$SECONDS
step() {
  local name=$1; shift
  local t0=$SECONDS
  printf '\n\033[1m==> %s\033[0m\n' "$name"
  "$@"
  printf '\033[1m<== %s: %ss\033[0m\n' "$name" $((SECONDS - t0))
}

boundary() {
  # Only src/web/ may name the browser crates: the core must stay target-independent.
  local leaks
  leaks=$(grep -rlE '\b(wasm_bindgen|web_sys|js_sys|gloo(_[a-z]+)?)::|#\[wasm_bindgen' src --include='*.rs' | grep -v '^src/web/' || true)
  if [ -n "$leaks" ]; then
    echo "browser crates named outside src/web/: $leaks" >&2
    return 1
  fi
  echo "only src/web/ names wasm_bindgen, web_sys, js_sys or gloo"
  # Text-only rendering: no string ever becomes markup (dom::build and dom::svg make elements).
  local markup
  markup=$(grep -rnE 'set_inner_html|set_outer_html|insert_adjacent_html|innerHTML|outerHTML|insertAdjacentHTML|document\.write' src www --include='*.rs' --include='*.js' --include='*.html' || true)
  if [ -n "$markup" ]; then
    echo "markup set from strings (use dom::build, dom::svg): $markup" >&2
    return 1
  fi
  echo "no innerHTML, outerHTML, insertAdjacentHTML or document.write in src/ or www/"
}

step "rustfmt" cargo fmt --check
step "web boundary" boundary
step "clippy (native)" cargo clippy --all-targets -- -D warnings
step "clippy (wasm32)" cargo clippy --all-targets "${WASM[@]}" -- -D warnings
step "tests (native: flex + wgpu on lavapipe)" cargo test
step "tests (headless Chromium: WebGPU + flex)" cargo test "${WASM[@]}" --test web -- --nocapture
# Also builds the threaded page into dist/threads/ (Trunk.toml's hook: scripts/build-threads.sh,
# the pinned nightly rebuilding std with atomics), which the page tests load.
step "trunk build (single-threaded page + threaded page)" trunk build
# The page tests start the mock model API (examples/openai_mock_server.rs) and call the CLI.
step "mock API and CLI for the page tests" cargo build --example openai_mock_server --bin leakscope
step "end-to-end (page in headless Chromium)" node --test --test-concurrency=1 tests/e2e/
printf '\nall checks passed in %ss\n' $((SECONDS - started))
