#!/usr/bin/env bash
# The page's threaded build: the CPU backend on a rayon pool of Web Workers sharing one wasm
# memory (src/web/worker/threads.rs), loaded by www/boot.js where the page is cross-origin
# isolated and no WebGPU adapter answers. It lands in `<dist>/threads/` beside the
# single-threaded build trunk makes; without it the page runs single-threaded.
#
# Trunk runs this after every build (Trunk.toml's post_build hook: TRUNK_STAGING_DIR,
# TRUNK_PROFILE), so `trunk build`, `trunk serve` and `make release` all carry it. By hand:
#   scripts/build-threads.sh <out-dir> [debug|release]
# LEAKSCOPE_THREADS=0 skips it.
#
# Threads need std rebuilt with atomics, which only a nightly toolchain does (`-Z build-std`):
# the one pinned here, installed with rust-src by scripts/setup.sh (`--toolchain` prints it).
# The stable toolchain builds everything else. The flags, for every crate:
#   +atomics,+bulk-memory  atomic instructions and thread-safe std (what wasm threads are);
#   +simd128               as the single-threaded build (.cargo/config.toml);
# and for the final link only (`cargo rustc … -- …`, so changing one rebuilds nothing else):
#   --shared-memory, --import-memory   one memory that every thread's instance imports;
#   --max-memory=4 GiB     the shared memory's maximum, which must be declared (ViT-B/32 needs
#                          its 605 MB of weights and the file they came from at once; browsers
#                          reserve it, they do not commit it);
#   --export=__wasm_init_tls, __tls_size, __tls_align, __tls_base   what wasm-bindgen's thread
#                          transform sets each thread's thread-locals up with.
# Cargo.toml's target tables follow the flags: no wgpu (it does not build with atomics), Burn's
# `rayon`, and wasm-bindgen-rayon. Its own target directory (`$CARGO_TARGET_DIR/threads`):
# another toolchain and std, and its module must not overwrite the one trunk just linked.
set -euo pipefail
# An output directory given by hand is relative to where it was given.
if [ -n "${1:-}" ] && [ "$1" != "--toolchain" ]; then
  mkdir -p "$1"
  set -- "$(cd "$1" && pwd)" "${@:2}"
fi
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

NIGHTLY=nightly-2026-05-19
if [ "${1:-}" = "--toolchain" ]; then
  echo "$NIGHTLY"
  exit 0
fi

say() { printf '\033[1m[threads]\033[0m %s\n' "$*" >&2; }

out=${1:-${TRUNK_STAGING_DIR:-}}
profile=${2:-${TRUNK_PROFILE:-debug}}
if [ -z "$out" ]; then
  echo "usage: $0 <out-dir> [debug|release]   (or as trunk's post_build hook)" >&2
  exit 2
fi
if [ "${LEAKSCOPE_THREADS:-1}" = 0 ]; then
  say "skipped (LEAKSCOPE_THREADS=0): the page runs single-threaded"
  exit 0
fi
if ! rustup run "$NIGHTLY" rustc --version >/dev/null 2>&1 \
  || ! rustup component list --toolchain "$NIGHTLY" --installed 2>/dev/null | grep -q '^rust-src'; then
  say "skipped: $NIGHTLY with rust-src is not installed (scripts/setup.sh installs it); the page runs single-threaded"
  exit 0
fi

case "$profile" in
  release) cargo_profile=web-release; dir=web-release ;;
  *) cargo_profile=dev; dir=debug ;;
esac
target_dir="${CARGO_TARGET_DIR:-target}/threads"
t0=$SECONDS
say "building the threaded page ($cargo_profile, $NIGHTLY, std rebuilt with atomics)"
link=(--shared-memory --import-memory --max-memory=4294967296 --export=__wasm_init_tls
  --export=__tls_size --export=__tls_align --export=__tls_base)
RUSTFLAGS='-C target-feature=+atomics,+bulk-memory,+simd128' \
  cargo "+$NIGHTLY" rustc --lib --target wasm32-unknown-unknown --no-default-features \
  --profile "$cargo_profile" --target-dir "$target_dir" -Z build-std=panic_abort,std \
  -- "${link[@]/#/-Clink-arg=}"
mkdir -p "$out/threads"
wasm-bindgen --target web --no-typescript --out-dir "$out/threads" --out-name leakscope \
  "$target_dir/wasm32-unknown-unknown/$dir/leakscope.wasm"
say "built $out/threads in $((SECONDS - t0)) s"
