//! `leakscope bake`: the page's precomputed results ([`leakscope::leakage::bake`]) for one
//! checkpoint folder and the gallery, written into a folder the page serves as `baked/`
//! (`make bake` puts it in `dist/baked/`).

use std::path::PathBuf;

use leakscope::embedder::ClipEmbedder;
use leakscope::leakage::bake::{
    BakedModel, CONCEPTS_FILE, GalleryEntry, GalleryInput, MANIFEST, bake,
};
use leakscope::preprocess::preprocess_bytes;
use leakscope::tokenizer::TokenizerMode;
use leakscope::util::hash::sha256_hex;

use super::{Backend, checkpoint_files, load_head, read_file};

#[derive(clap::Args)]
pub struct BakeArgs {
    /// Checkpoint folder in Hugging Face layout (the one the page will load).
    #[arg(long)]
    pub model: PathBuf,
    /// The checkpoint's Hugging Face repository, as the page names it (for people; the page
    /// matches the weights' sha256).
    #[arg(long, default_value = "openai/clip-vit-base-patch32")]
    pub repo: String,
    #[arg(long, default_value = "main")]
    pub revision: String,
    /// Guard head JSON; the built-in head when left out (the page uses the built-in head).
    #[arg(long)]
    pub head: Option<PathBuf>,
    /// The gallery folder: samples.json and the images it names.
    #[arg(long, default_value = "www/gallery")]
    pub gallery: PathBuf,
    /// Where manifest.json and concepts.f16 go (the page reads `baked/` beside index.html).
    #[arg(long, default_value = "dist/baked")]
    pub out: PathBuf,
    /// The CPU backend is the reference; wgpu gives values a float's summation order apart.
    #[arg(long, value_enum, default_value_t = Backend::Flex)]
    pub backend: Backend,
    /// The tokenizer mode the page will load the model in (the page's default is hub).
    #[arg(long, default_value = "hub")]
    pub tokenizer: TokenizerMode,
}

pub fn run(args: BakeArgs) -> Result<(), String> {
    let files = checkpoint_files(&args.model)?;
    let head = load_head(args.head.as_deref())?;
    let model = BakedModel {
        repo: args.repo.clone(),
        revision: args.revision.clone(),
        weights_sha256: sha256_hex(&files.model_safetensors),
        config_sha256: sha256_hex(&files.config_json),
    };
    let entries: Vec<GalleryEntry> =
        serde_json::from_slice(&read_file(&args.gallery.join("samples.json"))?)
            .map_err(|e| format!("{}: {e}", args.gallery.join("samples.json").display()))?;
    let device = args.backend.device();
    let embedder = pollster::block_on(ClipEmbedder::load_with_tokenizer(
        files,
        &device.device,
        args.tokenizer,
    ))
    .map_err(|e| format!("loading the model: {e}"))?;
    let mut gallery = Vec::with_capacity(entries.len());
    for entry in &entries {
        let path = args.gallery.join(&entry.image);
        let pixels = preprocess_bytes(&embedder.preprocess, &read_file(&path)?)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        gallery.push(GalleryInput {
            id: entry.id.clone(),
            text: entry.text.clone(),
            pixels: Some(pixels),
        });
    }
    let (bundle, concepts) = pollster::block_on(bake(embedder, head, model, &gallery))
        .map_err(|e| format!("baking: {e}"))?;
    std::fs::create_dir_all(&args.out).map_err(|e| format!("{}: {e}", args.out.display()))?;
    let manifest = serde_json::to_string(&bundle).map_err(|e| e.to_string())?;
    for (name, bytes) in [
        (MANIFEST, manifest.as_bytes()),
        (CONCEPTS_FILE, &concepts[..]),
    ] {
        let path = args.out.join(name);
        std::fs::write(&path, bytes).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    println!(
        "baked {} gallery samples and {} × {} concept embeddings (f16, {} KB) for {} \
         (sha256 {}…) into {}",
        bundle.samples.len(),
        bundle.set.concepts.rows,
        bundle.set.concepts.dim,
        concepts.len() / 1000,
        bundle.set.model.repo,
        &bundle.set.model.weights_sha256[..12],
        args.out.display()
    );
    Ok(())
}
