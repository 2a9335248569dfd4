#!/usr/bin/env python3
"""Time leakscope's benchmark rows on PyTorch CPU through transformers' CLIPModel: the
reference side of `leakscope bench --reference-python PYTHON`, which writes the inputs folder,
runs this script with the same rows, batches, iterations and thread count, and prints the
Burn / PyTorch ratios.

    python scripts/bench_reference.py --inputs DIR [--threads N] [--iters 10] [--warmup 2]
                                      [--budget-s 60] [--attn sdpa|eager]

DIR holds config.json (the model shape, random weights unless inputs.json names a checkpoint
folder in model_dir), vocab.json + merges.txt (the tokenizer), and inputs.json: the queries,
the guard head's prompts, its harm-concept count and logit scale, and the plan of
[row, batch] pairs. Rows are leakscope's (see src/cli/bench/mod.rs): text, concepts, image,
guard-text, guard-pair.

As a transformers user would run it: torch.inference_mode(), CLIPTokenizerFast with
padding to the longest text of the batch, get_text_features / get_image_features, L2
normalisation, results as numpy arrays. Preprocessed pixel tensors go in (no image decoding on
either side). Every row runs in its own process, so its peak memory is its own (VmHWM, reset
after the model is built). Prints one JSON object: {"versions": {...}, "results": [...]}.

Needs the pinned packages of scripts/requirements-reference.txt.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

MAX_BATCH = 32  # leakscope's embedder splits larger inputs into batches of this size


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "CPU"


def reset_peak_rss() -> None:
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


def peak_rss_mib() -> float | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def load_avg() -> float | None:
    try:
        return os.getloadavg()[0]
    except OSError:
        return None


def median_p90(samples: list[float]) -> tuple[float, float]:
    """Median and 90th percentile (nearest rank), as leakscope computes them."""
    ordered = sorted(samples)
    rank = min(max(math.ceil(0.9 * len(ordered)), 1), len(ordered))
    return statistics.median(ordered), ordered[rank - 1]


# --------------------------------------------------------------------------------------
# One row, in a child process
# --------------------------------------------------------------------------------------


def build(inputs_dir: Path, inputs: dict, attn: str):
    from transformers import CLIPConfig, CLIPModel, CLIPTokenizerFast

    model_dir = inputs.get("model_dir")
    if model_dir:
        model = CLIPModel.from_pretrained(model_dir, attn_implementation=attn)
        tokenizer = CLIPTokenizerFast.from_pretrained(model_dir)
    else:
        config = CLIPConfig.from_json_file(str(inputs_dir / "config.json"))
        model = CLIPModel._from_config(config, attn_implementation=attn)
        tokenizer = CLIPTokenizerFast(
            vocab_file=str(inputs_dir / "vocab.json"), merges_file=str(inputs_dir / "merges.txt")
        )
    return model.eval(), tokenizer


def row_op(row: str, batch: int, model, tokenizer, inputs: dict):
    """The timed call of a row, as a closure."""
    import torch

    size = model.config.vision_config.image_size
    dim = model.config.projection_dim
    queries = [inputs["queries"][i % len(inputs["queries"])] for i in range(batch)]
    generator = torch.Generator().manual_seed(7)
    pixels = torch.randn(batch, 3, size, size, generator=generator)

    def text_features(texts):
        enc = tokenizer(texts, padding=True, truncation=True, max_length=77, return_tensors="pt")
        f = model.get_text_features(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"])
        return f / f.norm(dim=-1, keepdim=True)

    def image_features(px):
        f = model.get_image_features(pixel_values=px)
        return f / f.norm(dim=-1, keepdim=True)

    if row == "text":
        return lambda: text_features(queries).numpy()
    if row == "image":
        return lambda: image_features(pixels).numpy()
    if row == "concepts":
        prompts = inputs["prompts"]
        templates = inputs["templates"]

        def concepts():
            rows = torch.cat([text_features(prompts[i:i + MAX_BATCH]) for i in range(0, len(prompts), MAX_BATCH)])
            mean = rows.reshape(-1, templates, dim).mean(dim=1)
            return (mean / mean.norm(dim=-1, keepdim=True)).numpy()

        return concepts
    if row in ("guard-text", "guard-pair"):
        n_concepts = len(inputs["prompts"]) // inputs["templates"]
        concepts = torch.randn(n_concepts, dim, generator=generator)
        concepts = concepts / concepts.norm(dim=-1, keepdim=True)
        n_harm = inputs["harm_count"]
        scale = inputs["logit_scale"]

        def head(embeds):
            # Softmax over concepts, harm margin (log-sum-exp harm − benign), P(unsafe).
            logits = scale * embeds @ concepts.T
            probabilities = logits.softmax(dim=-1)
            margin = logits[:, :n_harm].logsumexp(dim=-1) - logits[:, n_harm:].logsumexp(dim=-1)
            return probabilities.numpy(), torch.sigmoid(margin).numpy()

        def guard():
            texts = text_features(queries)
            out = [head(texts)]
            if row == "guard-pair":
                images = image_features(pixels)
                pair = (texts + images) / 2
                out += [head(images), head(pair / pair.norm(dim=-1, keepdim=True))]
            return out

        return guard
    raise SystemExit(f"unknown row {row}")


def run_child(args, row: str, batch: int) -> dict:
    import torch

    torch.set_num_threads(args.threads)
    inputs = json.loads((args.inputs / "inputs.json").read_text())
    model, tokenizer = build(args.inputs, inputs, args.attn)
    op = row_op(row, batch, model, tokenizer, inputs)
    with torch.inference_mode():
        load = load_avg()
        reset_peak_rss()
        t0 = time.perf_counter()
        op()
        first = (time.perf_counter() - t0) * 1e3
        for _ in range(1, args.warmup):
            op()
        samples = []
        cpu0, wall0 = time.process_time(), time.perf_counter()
        while len(samples) < args.iters and (len(samples) < 3 or time.perf_counter() - wall0 < args.budget_s):
            t0 = time.perf_counter()
            op()
            samples.append((time.perf_counter() - t0) * 1e3)
        cpu_per_wall = (time.process_time() - cpu0) / (time.perf_counter() - wall0)
    median, p90 = median_p90(samples)
    return {
        "implementation": "torch",
        "row": row,
        "batch": len(inputs["prompts"]) if row == "concepts" else batch,
        "first_ms": first,
        "median_ms": median,
        "p90_ms": p90,
        "samples_ms": samples,
        "peak_rss_mib": peak_rss_mib(),
        "cpu_per_wall": cpu_per_wall,
        "threads": torch.get_num_threads(),
        "device": cpu_model(),
        "load_avg": load,
    }


# --------------------------------------------------------------------------------------
# The plan, one child per row
# --------------------------------------------------------------------------------------


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--inputs", type=Path, required=True, help="folder written by `leakscope bench`")
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--iters", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--budget-s", type=float, default=60.0)
    ap.add_argument("--attn", default="sdpa", choices=["sdpa", "eager"],
                    help="transformers' attention implementation (sdpa is its default)")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.child:
        row, batch = args.child.split(":")
        print(json.dumps(run_child(args, row, int(batch))))
        return 0

    import torch
    import transformers

    inputs = json.loads((args.inputs / "inputs.json").read_text())
    results = []
    for row, batch in inputs["plan"]:
        cmd = [sys.executable, __file__, "--inputs", str(args.inputs), "--child", f"{row}:{batch}",
               "--threads", str(args.threads), "--iters", str(args.iters), "--warmup", str(args.warmup),
               "--budget-s", str(args.budget_s), "--attn", args.attn]
        done = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, check=True)
        m = json.loads(done.stdout.strip().splitlines()[-1])
        print(f"torch     {row:<10} batch {m['batch']:>3}: median {m['median_ms']:>9.2f} ms "
              f"(first {m['first_ms']:.2f} ms, {len(m['samples_ms'])} calls)", file=sys.stderr)
        results.append(m)
    versions = {
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "attention": args.attn,
        "tokenizer": "CLIPTokenizerFast, padding to the longest text",
        "python": platform.python_version(),
    }
    print(json.dumps({"versions": versions, "results": results}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
