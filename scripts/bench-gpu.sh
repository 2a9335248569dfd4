#!/usr/bin/env bash
# The GPU row of BENCHMARKS.md: `leakscope bench` on wgpu (Vulkan) on a machine that has only
# this script, the stripped release binary and a GPU driver with the Vulkan loader — no Rust,
# no Python, no checkpoint (the ViT-B/32 shape gets random weights in memory).
#
# Where the binary is built (46 MiB stripped; it must stay under 60 MiB; needs glibc ≥ 2.35):
#   cargo build --release --bin leakscope
#   mkdir -p target/bench-gpu && strip -o target/bench-gpu/leakscope "${CARGO_TARGET_DIR:-target}/release/leakscope"
# On the GPU machine, from the repository root:
#   OUT=/some/folder scripts/bench-gpu.sh [BINARY]
# Writes to $OUT (default target/bench-gpu/out): gpu.txt (nvidia-smi), devices.txt (the
# adapters wgpu sees), bench-gpu.txt and bench-gpu.json (wgpu rows), bench-cpu.txt and
# bench-cpu.json (flex on the same machine's CPU, for context; FLEX=0 skips it).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-target/bench-gpu/leakscope}
OUT=${OUT:-target/bench-gpu/out}
ITERS=${ITERS:-20}
mkdir -p "$OUT"
# wgpu's Vulkan loader warns without one; any private folder will do.
if [ -z "${XDG_RUNTIME_DIR:-}" ]; then
  XDG_RUNTIME_DIR=$(mktemp -d)
  export XDG_RUNTIME_DIR
fi

ls -l "$BIN"
if command -v nvidia-smi >/dev/null; then
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$OUT/gpu.txt"
fi
# The adapter wgpu picks is the one `bench` prints as "wgpu adapter:"; it must be the GPU, not
# a software rasteriser.
"$BIN" devices | tee "$OUT/devices.txt"

# The bench refuses to fall back to the CPU: a missing Vulkan driver fails here.
timeout 420 "$BIN" bench --backend wgpu --config vit-b-32 --batch 1,8,32 \
  --iters "$ITERS" --warmup 3 --budget-s 15 --json "$OUT/bench-gpu.json" | tee "$OUT/bench-gpu.txt"

if [ "${FLEX:-1}" = 1 ]; then
  timeout 240 "$BIN" bench --backend flex --config vit-b-32 --batch 1,8,32 \
    --rows text,image,guard-text,guard-pair --iters 5 --warmup 1 --budget-s 10 \
    --json "$OUT/bench-cpu.json" | tee "$OUT/bench-cpu.txt"
fi
