//! The Burn port equals transformers' CLIPModel on the committed random-weight fixtures
//! (made by scripts/make_reference.py), on both native backends: Burn `flex` and wgpu.
//! Tolerances (issue 3): 1e-4 max abs on normalised embeddings, 1e-3 relative on logits.

use crate::common::*;
use burn::tensor::{Device, Tensor, TensorData};
use leakscope::compute::{ComputeDevice, read_f32};
use leakscope::model::{ClipModel, TextTransformer, l2_normalize};
use leakscope::preprocess::{PreprocessConfig, Rgb8Image, to_tensor};
use leakscope::weights::load_clip;

const EMBED_TOL: f32 = 1e-4;
const LOGIT_REL_TOL: f32 = 1e-3;

struct Fixture {
    /// A folder under tests/fixtures, or an absolute path (the full-size check).
    name: &'static str,
    model_file: &'static str,
    reference_file: &'static str,
}

const FIXTURES: &[Fixture] = &[
    Fixture {
        name: "tiny-clip",
        model_file: "model.safetensors",
        reference_file: "reference.safetensors",
    },
    Fixture {
        name: "tiny-clip-gelu",
        model_file: "model.safetensors",
        reference_file: "reference.safetensors",
    },
    Fixture {
        name: "tiny-clip-gelu",
        model_file: "model.f16.safetensors",
        reference_file: "reference.f16.safetensors",
    },
    Fixture {
        name: "tiny-clip-gelu",
        model_file: "model.bf16.safetensors",
        reference_file: "reference.bf16.safetensors",
    },
];

fn block<T>(f: impl std::future::Future<Output = T>) -> T {
    pollster::block_on(f)
}

fn load(fixture: &Fixture, device: &Device) -> ClipModel {
    let dir = fixture.dir();
    load_clip(
        &read(dir.join("config.json")),
        read(dir.join(fixture.model_file)),
        device,
    )
    .unwrap_or_else(|e| panic!("{} {}: {e}", fixture.name, fixture.model_file))
}

/// The reference's pixels: its uint8 crops normalised by our preprocessing (bit-exact with
/// CLIPImageProcessor, see tests/native/preprocess.rs).
fn pixels(dir: &std::path::Path, reference: &[u8], device: &Device) -> Tensor<4> {
    let config =
        PreprocessConfig::from_json_bytes(&read(dir.join("preprocessor_config.json"))).unwrap();
    let crops = ref_tensor(reference, "pixel_rgb_u8");
    let [n, h, w, _] = crops.shape[..] else {
        panic!("pixel_rgb_u8 shape")
    };
    let mut data = Vec::new();
    for crop in crops.values.chunks(h * w * 3) {
        let image = Rgb8Image {
            width: w as u32,
            height: h as u32,
            data: crop.iter().map(|&v| v as u8).collect(),
        };
        data.extend(to_tensor(&config, &image).data);
    }
    Tensor::from_data(TensorData::new(data, [n, 3, h, w]), device)
}

struct Diffs {
    text_pooled: f32,
    text_embeds_normalized: f32,
    image_pooled: f32,
    image_embeds_normalized: f32,
    image_last_hidden: f32,
    logits_rel: f32,
}

impl Fixture {
    fn dir(&self) -> std::path::PathBuf {
        crate::common::fixture(self.name)
    }
}

fn compare(fixture: &Fixture, compute: &ComputeDevice) -> Diffs {
    let device = &compute.device;
    let dir = fixture.dir();
    let model = load(fixture, device);
    let inputs = read(dir.join("reference.safetensors"));
    let reference = read(dir.join(fixture.reference_file));
    let expect = |name: &str| ref_tensor(&reference, name).f32();

    let rows = ref_tensor(&inputs, "input_ids").rows_u32();
    let pool_index = ref_tensor(&reference, "text_pool_index").values;
    let positions: Vec<usize> = rows.iter().map(|r| model.pooling().position(r)).collect();
    assert_eq!(
        positions,
        pool_index.iter().map(|&p| p as usize).collect::<Vec<_>>(),
        "pool positions"
    );

    let text_pooled = model.text_pooled(&rows, device);
    let text_embeds = model.project_text(text_pooled.clone());
    let (image_hidden, image_pooled) = model.vision_model.forward(pixels(&dir, &inputs, device));
    let image_embeds = model.project_visual(image_pooled.clone());
    let logits = model.logits_per_image(image_embeds.clone(), text_embeds.clone());

    let got = |t: Tensor<2>| block(read_f32(t)).expect("read-back");
    Diffs {
        text_pooled: max_abs_diff(&got(text_pooled), &expect("text_pooled")),
        text_embeds_normalized: max_abs_diff(
            &got(l2_normalize(text_embeds)),
            &expect("text_embeds_normalized"),
        ),
        image_pooled: max_abs_diff(&got(image_pooled), &expect("image_pooled")),
        image_embeds_normalized: max_abs_diff(
            &got(l2_normalize(image_embeds)),
            &expect("image_embeds_normalized"),
        ),
        image_last_hidden: max_abs_diff(
            &block(read_f32(image_hidden)).unwrap(),
            &expect("image_last_hidden_state"),
        ),
        logits_rel: max_rel_diff(&got(logits), &expect("logits_per_image")),
    }
}

#[test]
fn port_matches_transformers_on_every_fixture_and_backend() {
    for compute in backends() {
        for fixture in FIXTURES {
            let d = compare(fixture, &compute);
            println!(
                "{:<10} {:<15} {:<22} text_embeds_norm {:.1e}  image_embeds_norm {:.1e}  text_pooled {:.1e}  image_pooled {:.1e}  image_hidden {:.1e}  logits_rel {:.1e}",
                compute.kind.label(),
                fixture.name,
                fixture.model_file,
                d.text_embeds_normalized,
                d.image_embeds_normalized,
                d.text_pooled,
                d.image_pooled,
                d.image_last_hidden,
                d.logits_rel
            );
            let context = format!(
                "{} {} on {}",
                fixture.name,
                fixture.model_file,
                compute.describe()
            );
            assert!(
                d.text_embeds_normalized <= EMBED_TOL,
                "{context}: text {:e}",
                d.text_embeds_normalized
            );
            assert!(
                d.image_embeds_normalized <= EMBED_TOL,
                "{context}: image {:e}",
                d.image_embeds_normalized
            );
            assert!(
                d.logits_rel <= LOGIT_REL_TOL,
                "{context}: logits {:e}",
                d.logits_rel
            );
            assert!(
                d.text_pooled <= EMBED_TOL * 10.0 && d.image_pooled <= EMBED_TOL * 10.0,
                "{context}: pooled"
            );
        }
    }
}

#[test]
fn text_hidden_states_match_on_attended_positions() {
    // transformers adds the padding mask too, so positions after the end token differ by
    // design; every position up to and including it must match.
    let fixture = &FIXTURES[0];
    for compute in backends() {
        let device = &compute.device;
        let dir = crate::common::fixture(fixture.name);
        let model = load(fixture, device);
        let reference = read(dir.join(fixture.reference_file));
        let rows = ref_tensor(&reference, "input_ids").rows_u32();
        let (ids, positions) = model.ids_tensor(&rows, device);
        let hidden = block(read_f32(model.text_model.forward(ids))).unwrap();
        let expected = ref_tensor(&reference, "text_last_hidden_state");
        let [_, seq, width] = expected.shape[..] else {
            panic!()
        };
        let expected = expected.f32();
        let mut worst = 0.0f32;
        for (row, &end) in positions.iter().enumerate() {
            let span = row * seq * width..(row * seq + end + 1) * width;
            worst = worst.max(max_abs_diff(&hidden[span.clone()], &expected[span]));
        }
        println!(
            "{}: text last_hidden_state (attended) max abs diff {worst:.1e}",
            compute.kind.label()
        );
        assert!(worst <= 1e-4);
    }
}

#[test]
fn both_pooling_rules_match_on_rows_without_and_with_an_end_token() {
    for fixture in &FIXTURES[..2] {
        let device = &ComputeDevice::flex().device;
        let dir = crate::common::fixture(fixture.name);
        let model = load(fixture, device);
        let reference = read(dir.join("reference.safetensors"));
        let rows = ref_tensor(&reference, "raw_input_ids").rows_u32();
        let expected_positions: Vec<usize> = ref_tensor(&reference, "raw_text_pool_index")
            .values
            .iter()
            .map(|&p| p as usize)
            .collect();
        let positions: Vec<usize> = rows.iter().map(|r| model.pooling().position(r)).collect();
        assert_eq!(positions, expected_positions, "{}", fixture.name);
        let pooled = block(read_f32(model.text_pooled(&rows, device))).unwrap();
        let diff = max_abs_diff(&pooled, &ref_tensor(&reference, "raw_text_pooled").f32());
        assert!(diff <= 1e-4, "{}: {diff:e}", fixture.name);
    }
}

#[test]
fn batched_calls_equal_single_calls() {
    let fixture = &FIXTURES[0];
    for compute in backends() {
        let device = &compute.device;
        let dir = crate::common::fixture(fixture.name);
        let model = load(fixture, device);
        let reference = read(dir.join("reference.safetensors"));
        let rows = ref_tensor(&reference, "input_ids").rows_u32();
        let batched = block(read_f32(model.text_embeds(&rows, device))).unwrap();
        let dim = batched.len() / rows.len();
        for (i, row) in rows.iter().enumerate() {
            let single = block(read_f32(
                model.text_embeds(std::slice::from_ref(row), device),
            ))
            .unwrap();
            let diff = max_abs_diff(&single, &batched[i * dim..(i + 1) * dim]);
            assert!(
                diff <= 1e-5,
                "{} text row {i}: {diff:e}",
                compute.kind.label()
            );
        }
        let images = pixels(&dir, &reference, device);
        let [n, c, h, w] = images.dims();
        let batched = block(read_f32(model.image_embeds(images.clone()))).unwrap();
        let dim = batched.len() / n;
        for i in 0..n {
            let one = images.clone().narrow(0, i, 1).reshape([1, c, h, w]);
            let single = block(read_f32(model.image_embeds(one))).unwrap();
            let diff = max_abs_diff(&single, &batched[i * dim..(i + 1) * dim]);
            assert!(diff <= 1e-5, "{} image {i}: {diff:e}", compute.kind.label());
        }
    }
}

#[test]
fn pooled_rows_are_gathered_per_row() {
    let device = Device::flex();
    let hidden = Tensor::<3>::from_data(
        TensorData::new((0..12).map(|v| v as f32).collect(), [2, 3, 2]),
        &device,
    );
    let pooled = block(read_f32(TextTransformer::pool(hidden, &[2, 0]))).unwrap();
    assert_eq!(pooled, vec![4.0, 5.0, 6.0, 7.0]);
}

/// The full openai/clip-vit-base-patch32 shape with random weights (605 MB, git-ignored):
/// `make parity-full` builds it with scripts/make_reference.py --full and runs this test.
#[test]
#[ignore = "full-size check: run `make parity-full`"]
fn full_size_vit_b_32_matches_transformers() {
    let dir = std::env::var("LEAKSCOPE_FULL_CLIP").unwrap_or_else(|_| {
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/target/reference/clip-vit-base-patch32-random"
        )
        .into()
    });
    if !std::path::Path::new(&dir)
        .join("model.safetensors")
        .exists()
    {
        println!("SKIP: {dir}/model.safetensors not found (run scripts/make_reference.py --full)");
        return;
    }
    let name: &'static str = Box::leak(dir.into_boxed_str());
    for compute in backends() {
        for (model_file, reference_file) in [
            ("model.safetensors", "reference.safetensors"),
            ("model.f16.safetensors", "reference.f16.safetensors"),
        ] {
            let fixture = Fixture {
                name,
                model_file,
                reference_file,
            };
            let started = std::time::Instant::now();
            let d = compare(&fixture, &compute);
            println!(
                "{:<10} ViT-B/32 {:<22} text_embeds_norm {:.1e}  image_embeds_norm {:.1e}  logits_rel {:.1e}  ({:.1?})",
                compute.kind.label(),
                model_file,
                d.text_embeds_normalized,
                d.image_embeds_normalized,
                d.logits_rel,
                started.elapsed()
            );
            assert!(
                d.text_embeds_normalized <= EMBED_TOL && d.image_embeds_normalized <= EMBED_TOL
            );
            assert!(d.logits_rel <= LOGIT_REL_TOL);
        }
    }
}
