"""Random-initialised Hugging Face CLIP checkpoints and their reference outputs.

Everything here is deterministic: weights come from numpy's PCG64 seeded per parameter name,
inputs are fixed texts and images drawn by synth_images.py, and torch runs on one CPU thread
in float32 with eager attention.
"""

from __future__ import annotations

import json
import shutil
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from torch import nn

from . import synth_images

# --------------------------------------------------------------------------------------
# Inputs
# --------------------------------------------------------------------------------------

TEXTS = [
    "",
    "a photo of a cat",
    "A DIAGRAM: two dogs, 3 cats & 1 bird -- isn't it great?!",
    "  leading and trailing\twhitespace\n  ",
    "café naïve résumé 🐱 über",
    " ".join(["the quick brown fox jumps over the lazy dog"] * 12),  # 108 words > 77 tokens
]
MAX_LEN = 77

CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073]
CLIP_STD = [0.26862954, 0.26130258, 0.27577711]

# Tensors of reference.safetensors that are inputs (they live only in the f32 reference).
INPUT_KEYS = ("input_ids", "attention_mask", "pixel_values", "pixel_rgb_u8",
              "raw_input_ids", "raw_attention_mask")

DTYPES = {"f16": torch.float16, "bf16": torch.bfloat16}


def preprocessor_config(size: int) -> dict:
    """Same fields and values as openai/clip-vit-base-patch32's image processor, at `size`."""
    return {
        "crop_size": size,
        "do_center_crop": True,
        "do_convert_rgb": True,
        "do_normalize": True,
        "do_rescale": True,
        "do_resize": True,
        "image_mean": CLIP_MEAN,
        "image_processor_type": "CLIPImageProcessor",
        "image_std": CLIP_STD,
        "resample": 3,
        "rescale_factor": 1 / 255,
        "size": {"shortest_edge": size},
    }


# --------------------------------------------------------------------------------------
# Variants
# --------------------------------------------------------------------------------------


@dataclass
class Init:
    """Standard deviations for the random initialisation."""

    token: float
    position: float
    class_emb: float
    patch: float
    linear: float | None  # fixed std; None means gain / sqrt(fan_in)
    linear_gain: float
    bias: float
    ln_weight: float  # weight = 1 + N(0, ln_weight)
    ln_bias: float


TINY_INIT = Init(token=0.3, position=0.1, class_emb=0.3, patch=0.04, linear=None,
                 linear_gain=1.0, bias=0.05, ln_weight=0.1, ln_bias=0.05)
FULL_INIT = Init(token=0.02, position=0.02, class_emb=0.02, patch=0.02, linear=0.02,
                 linear_gain=1.0, bias=0.02, ln_weight=0.02, ln_bias=0.02)


@dataclass
class Variant:
    name: str  # folder name
    seed: int
    n_merges: int
    text: dict
    vision: dict
    projection_dim: int
    logit_scale: float  # value actually stored in the weights (config keeps the HF default)
    init: Init
    pooling: str  # "legacy_argmax" (text eos_token_id == 2) or "first_eos"
    extra_dtypes: tuple = ()  # subset of DTYPES written as model.<dtype>.safetensors
    write_bin: bool = False  # pytorch_model.bin (torch.save of the f32 state dict)
    store_pixel_values: bool = True  # f32 pixel_values in reference.safetensors
    images_dir: str = "images"  # relative to the variant folder
    write_images: bool = True
    texts: list = field(default_factory=lambda: list(TEXTS))

    @property
    def vocab_size(self) -> int:
        return 512 + self.n_merges + 2

    @property
    def bos_id(self) -> int:
        return self.vocab_size - 2

    @property
    def eos_id(self) -> int:
        return self.vocab_size - 1


def tiny_variants() -> list[Variant]:
    common_text = dict(max_position_embeddings=MAX_LEN, layer_norm_eps=1e-5, num_hidden_layers=2)
    tiny = Variant(
        name="tiny-clip", seed=1234, n_merges=4000,
        text=dict(common_text, hidden_size=32, intermediate_size=37, num_attention_heads=4,
                  hidden_act="quick_gelu", bos_token_id=4512, eos_token_id=2, pad_token_id=4513),
        vision=dict(hidden_size=32, intermediate_size=37, num_hidden_layers=2, num_attention_heads=4,
                    image_size=224, patch_size=32, num_channels=3, hidden_act="quick_gelu",
                    layer_norm_eps=1e-5),
        projection_dim=16, logit_scale=2.0, init=TINY_INIT, pooling="legacy_argmax",
        # 224x224 f32 pixel tensors are 602 KB per image: over the fixture budget, so the tiny
        # variants ship pixel_rgb_u8 only (pixel_values is an exact function of it).
        store_pixel_values=False,
    )
    gelu = Variant(
        name="tiny-clip-gelu", seed=5678, n_merges=4000,
        # Text and vision widths differ on purpose (as in real CLIP: 512 vs 768).
        text=dict(common_text, hidden_size=8, intermediate_size=20, num_attention_heads=2,
                  hidden_act="gelu", bos_token_id=4512, eos_token_id=4513, pad_token_id=4513),
        vision=dict(hidden_size=16, intermediate_size=24, num_hidden_layers=2, num_attention_heads=2,
                    image_size=64, patch_size=16, num_channels=3, hidden_act="gelu",
                    layer_norm_eps=1e-5),
        projection_dim=8, logit_scale=2.25, init=TINY_INIT, pooling="first_eos",
        # f16/bf16 copies live here rather than in tiny-clip (2 x 0.55 MB there would break the
        # 2.5 MB fixture budget). Its pytorch_model.bin (~0.15 MB) tests `leakscope convert`.
        extra_dtypes=("f16", "bf16"), write_bin=True, store_pixel_values=False,
        images_dir="../tiny-clip/images", write_images=False,
    )
    return [tiny, gelu]


def full_variant() -> Variant:
    return Variant(
        name="clip-vit-base-patch32-random", seed=424242, n_merges=48894,
        text=dict(hidden_size=512, intermediate_size=2048, num_hidden_layers=12, num_attention_heads=8,
                  max_position_embeddings=MAX_LEN, hidden_act="quick_gelu", layer_norm_eps=1e-5,
                  bos_token_id=0, eos_token_id=2, pad_token_id=1),  # as in the OpenAI config.json
        vision=dict(hidden_size=768, intermediate_size=3072, num_hidden_layers=12, num_attention_heads=12,
                    image_size=224, patch_size=32, num_channels=3, hidden_act="quick_gelu",
                    layer_norm_eps=1e-5),
        projection_dim=512, logit_scale=4.6052, init=FULL_INIT, pooling="legacy_argmax",
        extra_dtypes=("f16", "bf16"), write_bin=True,
    )


# --------------------------------------------------------------------------------------
# Model construction
# --------------------------------------------------------------------------------------


def build_model(v: Variant):
    from transformers import CLIPConfig, CLIPModel

    text = dict(v.text, vocab_size=v.vocab_size, projection_dim=v.projection_dim)
    vision = dict(v.vision, projection_dim=v.projection_dim)
    config = CLIPConfig(text_config=text, vision_config=vision, projection_dim=v.projection_dim,
                        logit_scale_init_value=2.6592)
    torch.manual_seed(v.seed)
    model = CLIPModel._from_config(config, attn_implementation="eager")
    init_weights(model, v.init, v.seed, v.logit_scale)
    return model.eval()


def _normal(seed: int, name: str, shape, std: float) -> torch.Tensor:
    rng = np.random.default_rng([seed, zlib.crc32(name.encode("utf-8"))])
    return torch.from_numpy((rng.standard_normal(tuple(shape)) * std).astype(np.float32))


def init_weights(model: nn.Module, init: Init, seed: int, logit_scale: float) -> None:
    """Overwrite every parameter with seeded, non-trivial values; fail if one is missed."""
    done: set[str] = set()

    def put(name: str, value: torch.Tensor) -> None:
        param = dict(model.named_parameters())[name]
        assert param.shape == value.shape, (name, param.shape, value.shape)
        with torch.no_grad():
            param.copy_(value)
        done.add(name)

    for mname, mod in model.named_modules():
        pre = mname + "."
        if isinstance(mod, nn.LayerNorm):
            put(pre + "weight", 1.0 + _normal(seed, pre + "weight", mod.weight.shape, init.ln_weight))
            put(pre + "bias", _normal(seed, pre + "bias", mod.bias.shape, init.ln_bias))
        elif isinstance(mod, nn.Linear):
            std = init.linear if init.linear is not None else init.linear_gain / mod.in_features ** 0.5
            put(pre + "weight", _normal(seed, pre + "weight", mod.weight.shape, std))
            if mod.bias is not None:
                put(pre + "bias", _normal(seed, pre + "bias", mod.bias.shape, init.bias))
        elif isinstance(mod, nn.Embedding):
            std = init.token if "token_embedding" in mname else init.position
            put(pre + "weight", _normal(seed, pre + "weight", mod.weight.shape, std))
        elif isinstance(mod, nn.Conv2d):
            assert mod.bias is None
            put(pre + "weight", _normal(seed, pre + "weight", mod.weight.shape, init.patch))
    name = "vision_model.embeddings.class_embedding"
    put(name, _normal(seed, name, model.vision_model.embeddings.class_embedding.shape, init.class_emb))
    put("logit_scale", torch.tensor(logit_scale, dtype=torch.float32))

    missing = {n for n, _ in model.named_parameters()} - done
    assert not missing, f"parameters left at HF defaults: {sorted(missing)}"
    for n, p in model.named_parameters():
        assert torch.count_nonzero(p) == p.numel(), f"{n} has zeros"


# --------------------------------------------------------------------------------------
# Inputs
# --------------------------------------------------------------------------------------


def tokenize(tokenizer, texts):
    enc = tokenizer(texts, padding="max_length", max_length=MAX_LEN, truncation=True, return_tensors="np")
    return enc["input_ids"].astype(np.int64), enc["attention_mask"].astype(np.int64)


def raw_rows(v: Variant):
    """Two hand-made token rows that do not come from the tokenizer.

    row 0: 77 distinct random ids below <|startoftext|>, no eos, full mask. The legacy rule pools
           at argmax(ids); the first-eos rule finds no eos and pools at position 0.
    row 1: bos, 12 random ids, eos, then zero padding (open_clip style) with mask 0 after eos.
    """
    rng = np.random.default_rng([v.seed, 77])
    ids = np.zeros((2, MAX_LEN), dtype=np.int64)
    mask = np.zeros((2, MAX_LEN), dtype=np.int64)
    ids[0] = rng.choice(v.bos_id, size=MAX_LEN, replace=False)
    mask[0] = 1
    ids[1, 0] = v.bos_id
    ids[1, 1:13] = rng.integers(0, v.bos_id, size=12)
    ids[1, 13] = v.eos_id
    mask[1, :14] = 1
    return ids, mask


def preprocess(processor, image_paths):
    from PIL import Image

    images = [Image.open(p) for p in image_paths]
    pv = processor(images=images, return_tensors="np")["pixel_values"]
    raw = processor(images=images, do_rescale=False, do_normalize=False, return_tensors="np")["pixel_values"]
    assert pv.dtype == np.float32
    assert np.all(raw == np.round(raw)) and raw.min() >= 0 and raw.max() <= 255
    rgb_u8 = np.ascontiguousarray(raw.astype(np.uint8).transpose(0, 2, 3, 1))  # [M, S, S, 3]
    rebuilt = pixel_values_from_u8(rgb_u8, processor.rescale_factor, processor.image_mean, processor.image_std)
    assert rebuilt.dtype == pv.dtype and np.array_equal(rebuilt, pv), "u8 -> pixel_values is not bit-exact"
    return pv, rgb_u8


def pixel_values_from_u8(rgb_u8, rescale_factor, mean, std):
    """The exact float arithmetic of CLIPImageProcessor's rescale + normalize steps."""
    x = (rgb_u8.astype(np.float64) * rescale_factor).astype(np.float32)
    x = (x - np.asarray(mean, dtype=np.float32)) / np.asarray(std, dtype=np.float32)
    return np.ascontiguousarray(x.transpose(0, 3, 1, 2))


# --------------------------------------------------------------------------------------
# Reference outputs
# --------------------------------------------------------------------------------------


def pool_index(ids: torch.Tensor, pooling: str, eos_id: int) -> torch.Tensor:
    if pooling == "legacy_argmax":
        return ids.to(torch.int).argmax(dim=-1).to(torch.int64)
    return (ids.to(torch.int) == eos_id).int().argmax(dim=-1).to(torch.int64)


@torch.no_grad()
def run_model(model, v: Variant, input_ids, attention_mask, pixel_values, raw_ids, raw_mask) -> dict:
    ids = torch.from_numpy(input_ids)
    am = torch.from_numpy(attention_mask)
    pv = torch.from_numpy(pixel_values)
    t = model.text_model(input_ids=ids, attention_mask=am)
    im = model.vision_model(pixel_values=pv)
    out = model(input_ids=ids, pixel_values=pv, attention_mask=am)
    text_embeds = model.text_projection(t.pooler_output)
    image_embeds = model.visual_projection(im.pooler_output)
    assert torch.equal(text_embeds, model.get_text_features(input_ids=ids, attention_mask=am))
    assert torch.equal(image_embeds, model.get_image_features(pixel_values=pv))

    idx = pool_index(ids, v.pooling, v.eos_id)
    assert torch.equal(t.pooler_output, t.last_hidden_state[torch.arange(len(idx)), idx])

    rids = torch.from_numpy(raw_ids)
    rt = model.text_model(input_ids=rids, attention_mask=torch.from_numpy(raw_mask))
    ridx = pool_index(rids, v.pooling, v.eos_id)
    assert torch.equal(rt.pooler_output, rt.last_hidden_state[torch.arange(len(ridx)), ridx])

    res = {
        "text_last_hidden_state": t.last_hidden_state,
        "text_pooled": t.pooler_output,
        "text_pool_index": idx,
        "text_embeds": text_embeds,
        "text_embeds_normalized": out.text_embeds,
        "image_last_hidden_state": im.last_hidden_state,
        "image_pooled": im.pooler_output,
        "image_embeds": image_embeds,
        "image_embeds_normalized": out.image_embeds,
        "logits_per_image": out.logits_per_image,
        "logits_per_text": out.logits_per_text,
        "raw_text_pooled": rt.pooler_output,
        "raw_text_pool_index": ridx,
        "raw_text_embeds": model.text_projection(rt.pooler_output),
    }
    return {k: t_.detach().contiguous().clone() for k, t_ in res.items()}


def cast_roundtrip(state: dict, dtype: torch.dtype) -> tuple[dict, dict]:
    """(weights stored in `dtype`, the same weights upcast back to f32)."""
    low = {k: t.to(dtype).contiguous() for k, t in state.items()}
    return low, {k: t.to(torch.float32) for k, t in low.items()}


# --------------------------------------------------------------------------------------
# Writing one variant
# --------------------------------------------------------------------------------------

SAFETENSORS_META = {"format": "pt"}
OWN_OUTPUTS = ("config.json", "model.safetensors", "pytorch_model.bin", "reference.json", "reference.safetensors",
               *(f"model.{d}.safetensors" for d in DTYPES), *(f"reference.{d}.safetensors" for d in DTYPES))


def write_variant(v: Variant, out: Path, vocab_src: Path) -> dict:
    """Write one checkpoint folder. vocab_src holds vocab.json, merges.txt and the tokenizer
    config files. Returns a summary dict."""
    from transformers import CLIPImageProcessor, CLIPTokenizer

    out.mkdir(parents=True, exist_ok=True)
    for stale in OWN_OUTPUTS:  # so a variant that stops writing a file does not leave it behind
        (out / stale).unlink(missing_ok=True)
    for f in ("vocab.json", "merges.txt", "tokenizer_config.json", "special_tokens_map.json"):
        if (vocab_src / f).resolve() != (out / f).resolve():
            shutil.copyfile(vocab_src / f, out / f)
    size = v.vision["image_size"]
    _write_json(out / "preprocessor_config.json", preprocessor_config(size))

    images_dir = (out / v.images_dir)
    if v.write_images:
        image_paths = synth_images.make_images(images_dir)
    else:
        image_paths = [images_dir / n for n in synth_images.IMAGE_FILES]
    image_rel = [f"{v.images_dir}/{p.name}" for p in image_paths]

    tokenizer = CLIPTokenizer.from_pretrained(out)
    assert len(tokenizer) == v.vocab_size, (len(tokenizer), v.vocab_size)
    assert tokenizer.bos_token_id == v.bos_id and tokenizer.eos_token_id == v.eos_id
    processor = CLIPImageProcessor.from_pretrained(out)

    input_ids, attention_mask = tokenize(tokenizer, v.texts)
    raw_ids, raw_mask = raw_rows(v)
    pixel_values, rgb_u8 = preprocess(processor, image_paths)

    model = build_model(v)
    model.save_pretrained(out, safe_serialization=True)
    state = load_file(out / "model.safetensors")  # exactly what HF wrote (key names, order)

    inputs = {
        "input_ids": torch.from_numpy(input_ids),
        "attention_mask": torch.from_numpy(attention_mask),
        "pixel_rgb_u8": torch.from_numpy(rgb_u8),
        "raw_input_ids": torch.from_numpy(raw_ids),
        "raw_attention_mask": torch.from_numpy(raw_mask),
    }
    if v.store_pixel_values:
        inputs["pixel_values"] = torch.from_numpy(pixel_values)
    ref = run_model(model, v, input_ids, attention_mask, pixel_values, raw_ids, raw_mask)
    save_file({**inputs, **ref}, out / "reference.safetensors", metadata=SAFETENSORS_META)

    dtype_files = {"f32": {"weights": "model.safetensors", "reference": "reference.safetensors"}}
    for dname in v.extra_dtypes:
        low, up = cast_roundtrip(state, DTYPES[dname])
        save_file(low, out / f"model.{dname}.safetensors", metadata=SAFETENSORS_META)
        m = build_model(v)
        m.load_state_dict(up, strict=True)
        dref = run_model(m.eval(), v, input_ids, attention_mask, pixel_values, raw_ids, raw_mask)
        save_file(dref, out / f"reference.{dname}.safetensors", metadata=SAFETENSORS_META)
        dtype_files[dname] = {"weights": f"model.{dname}.safetensors", "reference": f"reference.{dname}.safetensors"}

    if v.write_bin:
        sd = {k: t.clone() for k, t in model.state_dict().items()}
        # Classic HF pytorch_model.bin files also carried the (then persistent) position_ids buffers.
        sd["text_model.embeddings.position_ids"] = torch.arange(v.text["max_position_embeddings"])[None, :].clone()
        n_pos = (size // v.vision["patch_size"]) ** 2 + 1
        sd["vision_model.embeddings.position_ids"] = torch.arange(n_pos)[None, :].clone()
        torch.save(sd, out / "pytorch_model.bin")

    tensors = {}
    with open(out / "reference.safetensors", "rb") as fh:
        header = json.loads(fh.read(int.from_bytes(fh.read(8), "little")))
    for k in sorted(header):
        if k != "__metadata__":
            tensors[k] = {"dtype": header[k]["dtype"], "shape": header[k]["shape"]}
    import PIL
    import safetensors
    import transformers

    manifest = {
        "generator": "scripts/make_reference.py",
        "versions": {"torch": torch.__version__.split("+")[0], "transformers": transformers.__version__,
                     "safetensors": safetensors.__version__, "numpy": np.__version__, "pillow": PIL.__version__},
        "compute": "float32, CPU, 1 thread, torch.no_grad(), model.eval(), attn_implementation=eager",
        "texts": v.texts,
        "images": image_rel,
        "image_sizes": [list(_image_size(p)) for p in image_paths],
        "tokenizer": "CLIPTokenizer (slow), padding=max_length, max_length=77, truncation=True",
        "text_pooling": v.pooling,
        "text_eos_token_id_in_config": v.text["eos_token_id"],
        "eos_id": v.eos_id,
        "bos_id": v.bos_id,
        "logit_scale_in_weights": v.logit_scale,
        "dtypes": dtype_files,
        "dtype_note": ("reference.<dtype>.safetensors holds outputs only (inputs are in reference.safetensors), "
                       "computed in f32 by a model whose weights are model.<dtype>.safetensors upcast to f32"),
        "pixel_values": {
            "stored": v.store_pixel_values,
            "pixel_rgb_u8": "[M,S,S,3] uint8: the RGB image after convert_rgb, shortest-edge bicubic resize "
                            "and centre crop (before rescale/normalize)",
            "exact_formula": "pixel_values[m,c,y,x] = (f32(f64(u8[m,y,x,c]) * f64(rescale_factor)) - f32(mean[c])) "
                             "/ f32(std[c]), all in f32; bit-identical to CLIPImageProcessor",
        },
        "raw_rows": raw_rows.__doc__.strip().split("\n", 1)[1].strip(),
        "tensors": tensors,
    }
    _write_json(out / "reference.json", manifest)
    return {"variant": v, "texts": v.texts, "image_paths": image_paths}


def _image_size(p: Path):
    from PIL import Image

    with Image.open(p) as im:
        return im.size  # (width, height)


def _write_json(path: Path, obj) -> None:
    path.write_text(json.dumps(obj, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


# --------------------------------------------------------------------------------------
# Verification (reload everything from disk and compare)
# --------------------------------------------------------------------------------------


def _max_diff(a: torch.Tensor, b: torch.Tensor) -> float:
    assert a.shape == b.shape and a.dtype == b.dtype, (a.shape, b.shape, a.dtype, b.dtype)
    if a.dtype in (torch.int64, torch.uint8):
        return float((a != b).sum())
    return float((a - b).abs().max()) if a.numel() else 0.0


def verify_variant(v: Variant, out: Path) -> list[str]:
    from transformers import CLIPImageProcessor, CLIPModel, CLIPTokenizer, CLIPTokenizerFast

    notes = []
    ref = load_file(out / "reference.safetensors")
    manifest = json.loads((out / "reference.json").read_text(encoding="utf-8"))

    tok = CLIPTokenizer.from_pretrained(out)
    ids, mask = tokenize(tok, manifest["texts"])
    assert np.array_equal(ids, ref["input_ids"].numpy()) and np.array_equal(mask, ref["attention_mask"].numpy())
    fast = CLIPTokenizerFast.from_pretrained(out)
    fids, _ = tokenize(fast, manifest["texts"])
    same = [bool(np.array_equal(a, b)) for a, b in zip(fids, ids)]
    notes.append(f"fast tokenizer rows equal to slow: {same}")

    proc = CLIPImageProcessor.from_pretrained(out)
    pv, u8 = preprocess(proc, [out / p for p in manifest["images"]])
    assert np.array_equal(u8, ref["pixel_rgb_u8"].numpy())
    if "pixel_values" in ref:
        assert np.array_equal(pv, ref["pixel_values"].numpy())

    model = CLIPModel.from_pretrained(out, attn_implementation="eager").eval()
    assert model.config.text_config.eos_token_id == v.text["eos_token_id"]
    got = run_model(model, v, ids, mask, pv, ref["raw_input_ids"].numpy(), ref["raw_attention_mask"].numpy())
    worst = max(_max_diff(got[k], ref[k]) for k in got)
    assert worst == 0.0, f"reloaded f32 model differs from reference by {worst}"
    notes.append("f32 reload: bit-identical")

    sdpa = CLIPModel.from_pretrained(out, attn_implementation="sdpa").eval()
    got_sdpa = run_model(sdpa, v, ids, mask, pv, ref["raw_input_ids"].numpy(), ref["raw_attention_mask"].numpy())
    notes.append("sdpa vs eager max |diff|: %.2e" % max(_max_diff(got_sdpa[k], ref[k]) for k in got_sdpa))

    f32_state = load_file(out / "model.safetensors")
    for dname in v.extra_dtypes:
        low = load_file(out / f"model.{dname}.safetensors")
        assert list(low) == list(f32_state) and all(t.dtype == DTYPES[dname] for t in low.values())
        m = CLIPModel.from_pretrained(out, attn_implementation="eager").eval()
        m.load_state_dict({k: t.float() for k, t in low.items()}, strict=True)
        dref = load_file(out / f"reference.{dname}.safetensors")
        g = run_model(m, v, ids, mask, pv, ref["raw_input_ids"].numpy(), ref["raw_attention_mask"].numpy())
        assert max(_max_diff(g[k], dref[k]) for k in g) == 0.0
        drift = max(_max_diff(dref[k], ref[k]) for k in dref if dref[k].is_floating_point())
        notes.append(f"{dname}: reload bit-identical; max |{dname} ref - f32 ref| = {drift:.2e}")

    if v.write_bin:
        sd = torch.load(out / "pytorch_model.bin", map_location="cpu", weights_only=True)
        extra = sorted(set(sd) - set(f32_state))
        assert all(torch.equal(sd[k], f32_state[k]) for k in f32_state)
        notes.append(f"pytorch_model.bin: same tensors as model.safetensors plus {extra}")
    return notes
