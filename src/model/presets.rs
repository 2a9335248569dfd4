//! Named checkpoints the app offers in its model picker (and `?model=<name>` in the page's
//! address). Their shapes are read from each repo's `config.json` at load time; the figures
//! here are for the picker: what the download weighs and how good the model is, each with where
//! it comes from.

/// A known CLIP-family checkpoint on the Hugging Face hub, in transformers' `CLIPModel` layout
/// with a `model.safetensors`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Preset {
    /// Short name used in URLs and the CLI (`?model=vit-b-32`).
    pub name: &'static str,
    /// Hugging Face repo id.
    pub repo: &'static str,
    /// What people see in the model picker.
    pub description: &'static str,
    /// Size of `model.safetensors` in MB (10^6 bytes), from the repo's file listing (`listing`).
    pub download_mb: f32,
    /// The repo's file listing the size was read from.
    pub listing: &'static str,
    /// Published zero-shot top-1 accuracy on ImageNet-1k, in %.
    pub imagenet_zero_shot: f32,
    /// Where that accuracy is published.
    pub accuracy_source: &'static str,
}

/// The default first: OpenAI's ViT-B/32, the checkpoint VLSBench-style demos use. Then the lite
/// choice for a quick first visit, then the larger ones.
pub const PRESETS: &[Preset] = &[
    Preset {
        name: "vit-b-32",
        repo: "openai/clip-vit-base-patch32",
        description: "OpenAI CLIP ViT-B/32 (text 512×12, vision 768×12, patch 32, 512-d)",
        download_mb: 605.0,
        listing: "https://huggingface.co/openai/clip-vit-base-patch32/tree/main",
        imagenet_zero_shot: 63.2,
        accuracy_source: "Radford et al. 2021, Learning Transferable Visual Models From Natural \
                          Language Supervision (CLIP), zero-shot ImageNet, ViT-B/32",
    },
    Preset {
        name: "tinyclip-8m",
        repo: "wkcn/TinyCLIP-ViT-8M-16-Text-3M-YFCC15M",
        description: "TinyCLIP ViT-8M/16 + Text-3M (distilled from CLIP; small and fast)",
        // The listing shows model.safetensors at 93.8 MB (f32, 11M parameters plus the
        // embeddings); the 48 MB once written here was the parameter count at two bytes each.
        download_mb: 93.8,
        listing: "https://huggingface.co/wkcn/TinyCLIP-ViT-8M-16-Text-3M-YFCC15M/tree/main",
        imagenet_zero_shot: 41.1,
        accuracy_source: "https://huggingface.co/wkcn/TinyCLIP-ViT-8M-16-Text-3M-YFCC15M \
                          (model zoo table: IN-1K Acc@1; Wu et al., ICCV 2023)",
    },
    Preset {
        name: "vit-b-16",
        repo: "openai/clip-vit-base-patch16",
        description: "OpenAI CLIP ViT-B/16 (text 512×12, vision 768×12, patch 16, 512-d)",
        download_mb: 599.0,
        listing: "https://huggingface.co/openai/clip-vit-base-patch16/tree/main",
        imagenet_zero_shot: 68.6,
        accuracy_source: "Radford et al. 2021 (CLIP), zero-shot ImageNet, ViT-B/16",
    },
    Preset {
        name: "vit-l-14",
        repo: "openai/clip-vit-large-patch14",
        description: "OpenAI CLIP ViT-L/14 (text 768×12, vision 1024×24, patch 14, 768-d)",
        download_mb: 1710.0,
        listing: "https://huggingface.co/openai/clip-vit-large-patch14/tree/main",
        imagenet_zero_shot: 75.3,
        accuracy_source: "Radford et al. 2021 (CLIP), zero-shot ImageNet, ViT-L/14",
    },
];

/// Look a preset up by its short name or repo id.
pub fn preset(name_or_repo: &str) -> Option<&'static Preset> {
    PRESETS
        .iter()
        .find(|p| p.name == name_or_repo || p.repo == name_or_repo)
}

impl Preset {
    /// The picker's line: name, download size, accuracy.
    pub fn label(&self) -> String {
        let size = if self.download_mb >= 1000.0 {
            format!("{:.2} GB", self.download_mb / 1000.0)
        } else {
            format!("{:.0} MB", self.download_mb)
        };
        format!(
            "{} — {size} download, {:.1}% ImageNet zero-shot",
            self.repo, self.imagenet_zero_shot
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_are_found_by_name_or_repo_and_labelled_with_size_and_accuracy() {
        let lite = preset("tinyclip-8m").unwrap();
        assert_eq!(preset(lite.repo), Some(lite));
        assert_eq!(
            lite.label(),
            "wkcn/TinyCLIP-ViT-8M-16-Text-3M-YFCC15M — 94 MB download, 41.1% ImageNet zero-shot"
        );
        assert!(preset("vit-l-14").unwrap().label().contains("1.71 GB"));
        assert_eq!(PRESETS[0].name, "vit-b-32", "the default comes first");
        for p in PRESETS {
            assert!(p.listing.starts_with("https://huggingface.co/") && p.listing.contains(p.repo));
        }
    }
}
