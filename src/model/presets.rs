//! Named checkpoints the app offers. Their shapes are read from each repo's `config.json` at
//! load time; the figures below are for display and for the size estimate before download.

/// A known CLIP-family checkpoint on the Hugging Face hub.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Preset {
    /// Short name used in URLs and the CLI (`--preset vit-b-32`).
    pub name: &'static str,
    /// Hugging Face repo id.
    pub repo: &'static str,
    /// What people see in the model picker.
    pub description: &'static str,
    /// Approximate size of `model.safetensors` in MB (f32), from the repo's file listing.
    pub approx_mb: u32,
    /// Where the numbers come from.
    pub source: &'static str,
}

/// The default first: OpenAI's ViT-B/32, the checkpoint VLSBench-style demos use.
pub const PRESETS: &[Preset] = &[
    Preset {
        name: "vit-b-32",
        repo: "openai/clip-vit-base-patch32",
        description: "OpenAI CLIP ViT-B/32 (text 512×12, vision 768×12, patch 32, 512-d)",
        approx_mb: 605,
        source: "https://huggingface.co/openai/clip-vit-base-patch32/blob/main/config.json",
    },
    Preset {
        name: "vit-b-16",
        repo: "openai/clip-vit-base-patch16",
        description: "OpenAI CLIP ViT-B/16 (text 512×12, vision 768×12, patch 16, 512-d)",
        approx_mb: 599,
        source: "https://huggingface.co/openai/clip-vit-base-patch16/blob/main/config.json",
    },
    Preset {
        name: "vit-l-14",
        repo: "openai/clip-vit-large-patch14",
        description: "OpenAI CLIP ViT-L/14 (text 768×12, vision 1024×24, patch 14, 768-d)",
        approx_mb: 1710,
        source: "https://huggingface.co/openai/clip-vit-large-patch14/blob/main/config.json",
    },
    Preset {
        name: "tinyclip-8m",
        repo: "wkcn/TinyCLIP-ViT-8M-16-Text-3M-YFCC15M",
        description: "TinyCLIP ViT-8M/16 + Text-3M (distilled; small and fast)",
        approx_mb: 48,
        source: "https://huggingface.co/wkcn/TinyCLIP-ViT-8M-16-Text-3M-YFCC15M/blob/main/config.json",
    },
];

/// Look a preset up by its short name or repo id.
pub fn preset(name_or_repo: &str) -> Option<&'static Preset> {
    PRESETS
        .iter()
        .find(|p| p.name == name_or_repo || p.repo == name_or_repo)
}
