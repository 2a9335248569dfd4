#!/usr/bin/env bash
# Install whatever leakscope's build and tests need, and only what is missing.
# Idempotent: a second run installs nothing. Used by `make serve` and `make test`.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }

TRUNK_VERSION=0.21.14
# wasm-bindgen-cli must equal the wasm-bindgen crate in Cargo.lock, or the generated glue
# refuses to load.
WASM_BINDGEN_VERSION=$(awk '/^name = "wasm-bindgen"$/ {getline; gsub(/"/, "", $3); print $3; exit}' Cargo.lock)
export PATH="$HOME/.cargo/bin:$PATH"

# 1. Rust target for the browser build.
if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

# 1b. The pinned nightly for the page's threaded build (scripts/build-threads.sh pins it): std
#     is rebuilt with atomics from rust-src (`-Z build-std`), so the nightly needs no wasm32
#     std of its own (the mirror has none for that date).
NIGHTLY=$(scripts/build-threads.sh --toolchain)
if ! rustup component list --toolchain "$NIGHTLY" --installed 2>/dev/null | grep -q '^rust-src'; then
  say "installing $NIGHTLY with rust-src (the page's threaded build; once)"
  rustup toolchain install "$NIGHTLY" --profile minimal --component rust-src
fi

# 2. Debian packages: Chromium + its driver for browser tests, Mesa's lavapipe Vulkan driver
#    for native wgpu tests.
DEB_PACKAGES=(chromium chromium-driver mesa-vulkan-drivers libvulkan1)
missing=()
for pkg in "${DEB_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  if ! command -v apt-get >/dev/null 2>&1; then
    say "missing packages: ${missing[*]}; this is not a Debian-like system (no apt-get)."
    say "install Chromium, ChromeDriver and a Vulkan driver (Mesa lavapipe) by hand, then rerun."
    exit 1
  elif [ "$(id -u)" -ne 0 ] && ! command -v sudo >/dev/null 2>&1; then
    say "missing packages: ${missing[*]}; run as root (or install sudo) so apt-get can install them:"
    say "  apt-get install -y ${missing[*]}"
    exit 1
  else
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    say "installing Debian packages: ${missing[*]}"
    $SUDO apt-get update -q
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q "${missing[@]}"
  fi
fi

# 3. Trunk, pinned: 0.22 needs rustc >= 1.96.1.
if ! trunk --version 2>/dev/null | grep -q " $TRUNK_VERSION"; then
  say "installing trunk $TRUNK_VERSION (a few minutes, once)"
  cargo install --locked trunk --version "$TRUNK_VERSION"
fi

# 4. wasm-bindgen-cli at Cargo.lock's version (no --locked: it fails on this registry).
if ! wasm-bindgen --version 2>/dev/null | grep -q " $WASM_BINDGEN_VERSION"; then
  say "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (a few minutes, once)"
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
fi

# 5. Node packages for the page-level end-to-end tests (playwright-core drives Debian's
#    Chromium; it never downloads a browser).
if [ ! -d tests/e2e/node_modules/playwright-core ]; then
  say "installing the end-to-end test's npm packages"
  (cd tests/e2e && npm ci --no-audit --no-fund --loglevel=error)
fi

say "all tools present"
