//! Every WGSL file in `shaders/` against its CPU reference, on wgpu (lavapipe in CI), and
//! parsed + validated by naga. The kernels do the CPU's integer arithmetic, so the expected
//! difference is zero everywhere; the tolerances are the (1e-6 for the model input,
//! exact bytes for the overlay). The browser counterpart is in tests/web.rs.

use std::path::Path;

use burn::tensor::Tensor;
use leakscope::compute::{ComputeDevice, read_f32};
use leakscope::embedder::ClipEmbedder;
use leakscope::gpu::GpuError;
use leakscope::gpu::overlay::{render_overlay_gpu, render_overlay_on};
use leakscope::gpu::preprocess::{model_input, preprocess_rgba_gpu};
use leakscope::overlay::{GridRect, OverlayOptions, OverlayPlan, RelevanceScale, render_overlay};
use leakscope::preprocess::{
    DecodeOptions, Geometry, PreprocessConfig, Resample, decode_rgb, preprocess_rgba_with,
};
use serde_json::Value;

use crate::common::{fixture, read, wgpu};

/// Largest |GPU − CPU| allowed on the normalised model input.
const MAX_INPUT_DIFF: f32 = 1e-6;

const FILTERS: [Resample; 6] = [
    Resample::Nearest,
    Resample::Bilinear,
    Resample::Bicubic,
    Resample::Box,
    Resample::Hamming,
    Resample::Lanczos,
];

#[test]
fn every_shader_parses_and_validates_with_naga() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("shaders");
    let mut checked = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("wgsl") {
            continue;
        }
        let name = path.file_stem().unwrap().to_str().unwrap().to_owned();
        let source = std::fs::read_to_string(&path).unwrap();
        let module = naga::front::wgsl::parse_str(&source)
            .unwrap_or_else(|e| panic!("{}", e.emit_to_string(&source)));
        naga::valid::Validator::new(
            naga::valid::ValidationFlags::all(),
            naga::valid::Capabilities::empty(),
        )
        .validate(&module)
        .unwrap_or_else(|e| panic!("{name}: {}", e.emit_to_string(&source)));
        // The Rust side launches the entry point named like the file, 64 invocations wide.
        let entry = module
            .entry_points
            .iter()
            .find(|e| e.name == name)
            .unwrap_or_else(|| panic!("{name}.wgsl has no entry point `{name}`"));
        assert_eq!(entry.workgroup_size, [64, 1, 1], "{name}");
        checked.push(name);
    }
    checked.sort();
    assert_eq!(
        checked,
        [
            "box_blur",
            "relevance_overlay",
            "resample_columns",
            "resample_rows"
        ]
    );
}

/// Largest |a − b|, a NaN on either side counting as infinitely far (`f32::max` would drop it).
fn max_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| {
            let d = (x - y).abs();
            if d.is_nan() && x.to_bits() != y.to_bits() {
                f32::INFINITY
            } else if d.is_nan() {
                0.0
            } else {
                d
            }
        })
        .fold(0.0, f32::max)
}

/// A fixture image decoded as Pillow would, as RGBA with a varying alpha that both paths
/// must ignore.
fn rgba_of(bytes: &[u8], opts: &DecodeOptions) -> (u32, u32, Vec<u8>) {
    let rgb = decode_rgb(bytes, opts).unwrap();
    let mut rgba = rgb.to_rgba();
    for (i, px) in rgba.chunks_exact_mut(4).enumerate() {
        px[3] = (i * 31 % 256) as u8;
    }
    (rgb.width, rgb.height, rgba)
}

async fn gpu_input(
    device: &ComputeDevice,
    cfg: &PreprocessConfig,
    (w, h, rgba): &(u32, u32, Vec<u8>),
    opts: &DecodeOptions,
) -> (Vec<usize>, Vec<f32>) {
    let t = preprocess_rgba_gpu(&device.device, cfg, *w, *h, rgba, opts).unwrap();
    let shape = t.dims().to_vec();
    (shape, read_f32(t).await.unwrap())
}

#[test]
fn gpu_preprocessing_equals_the_cpu_path_for_every_fixture_and_filter() {
    let device = wgpu();
    let dir = fixture("preprocess");
    let index: Value = serde_json::from_slice(&read(dir.join("index.json"))).unwrap();
    let mut worst = 0f32;
    let mut failures = Vec::new();
    let mut runs = 0;
    for e in index["entries"].as_array().unwrap() {
        let name = e["name"].as_str().unwrap();
        let base = match &e["config"] {
            Value::Null => PreprocessConfig::default(),
            v => PreprocessConfig::from_json_bytes(&serde_json::to_vec(v).unwrap()).unwrap(),
        };
        let opts = DecodeOptions {
            apply_exif_orientation: e["apply_exif_orientation"].as_bool().unwrap_or(false),
            ..DecodeOptions::default()
        };
        let image = rgba_of(&read(dir.join(e["image"].as_str().unwrap())), &opts);
        let mut row = Vec::new();
        for filter in FILTERS {
            let cfg = PreprocessConfig {
                resample: filter,
                ..base.clone()
            };
            let cpu = preprocess_rgba_with(&cfg, image.0, image.1, &image.2, &opts).unwrap();
            let (shape, gpu) = pollster::block_on(gpu_input(&device, &cfg, &image, &opts));
            assert_eq!(shape, [1, 3, cpu.height, cpu.width], "{name} {filter:?}");
            let diff = max_diff(&gpu, &cpu.data);
            if diff > MAX_INPUT_DIFF {
                failures.push(format!("{name} {filter:?}: {diff:e}"));
            }
            worst = worst.max(diff);
            row.push(format!("{diff:.0e}"));
            runs += 1;
        }
        println!("{name:<40} max|gpu-cpu| {}", row.join(" "));
    }
    println!(
        "filters {FILTERS:?}\n{runs} runs on {}: worst max|gpu-cpu| = {worst:e}",
        device.describe()
    );
    assert!(failures.is_empty(), "over {MAX_INPUT_DIFF}: {failures:#?}");
}

#[test]
fn gpu_model_input_embeds_like_the_cpu_input() {
    let device = wgpu();
    let files = crate::common::checkpoint_files(&fixture("tiny-clip"));
    let embedder = pollster::block_on(ClipEmbedder::load(files, &device.device)).unwrap();
    let bytes = read(fixture("tiny-clip/images/shapes_150x200.png"));
    let (w, h, rgba) = rgba_of(&bytes, &DecodeOptions::default());
    let cfg = &embedder.preprocess;
    let cpu = preprocess_rgba_with(cfg, w, h, &rgba, &DecodeOptions::default()).unwrap();
    let pixels = model_input(&device.device, cfg, w, h, &rgba, &DecodeOptions::default()).unwrap();
    let on_gpu = pollster::block_on(embedder.image_embeddings_from_tensor(pixels)).unwrap();
    let on_cpu = pollster::block_on(embedder.image_embeddings(&[cpu])).unwrap();
    let diff = max_diff(&on_gpu.values, &on_cpu.values);
    println!("embedding of the GPU-preprocessed image: max|diff| {diff:e}");
    assert!(diff <= 1e-6, "{diff:e}");
}

#[test]
fn the_cpu_backend_gets_the_cpu_path() {
    let flex = ComputeDevice::flex();
    let cfg = PreprocessConfig::default();
    let (w, h, rgba) = rgba_of(
        &read(fixture("preprocess/images/rgb_225x300.png")),
        &DecodeOptions::default(),
    );
    let err = preprocess_rgba_gpu(&flex.device, &cfg, w, h, &rgba, &DecodeOptions::default());
    assert!(matches!(err, Err(GpuError::NotGpu)), "{err:?}");
    let t: Tensor<4> =
        model_input(&flex.device, &cfg, w, h, &rgba, &DecodeOptions::default()).unwrap();
    let cpu = preprocess_rgba_with(&cfg, w, h, &rgba, &DecodeOptions::default()).unwrap();
    assert_eq!(pollster::block_on(read_f32(t)).unwrap(), cpu.data);
    // Bad input is the CPU path's typed error on the GPU too.
    let err = preprocess_rgba_gpu(
        &wgpu().device,
        &cfg,
        w,
        h,
        &rgba[1..],
        &DecodeOptions::default(),
    );
    assert!(matches!(err, Err(GpuError::Preprocess(_))), "{err:?}");
}

/// Deterministic relevance values in [-0.3, 0.5], like patch cosines.
fn relevance(cells: usize, seed: u32) -> Vec<f32> {
    (0..cells as u32)
        .map(|i| {
            let x = (i.wrapping_mul(2_654_435_761) ^ seed).wrapping_mul(40_503) >> 16;
            -0.3 + 0.8 * (x % 1000) as f32 / 999.0
        })
        .collect()
}

#[test]
fn gpu_overlay_equals_the_cpu_overlay_byte_for_byte() {
    let device = wgpu();
    let flex = ComputeDevice::flex();
    let images = [
        "preprocess/images/rgb_225x300.png",
        "preprocess/images/rgba_320x240.png",
        "preprocess/images/rgb_wide_1000x7.png",
        "preprocess/images/rgb_1x1.png",
        "tiny-clip/images/gray_97x61.png",
    ];
    let mut cases = 0;
    for path in images {
        let bytes = read(fixture(path));
        let rgb = decode_rgb(&bytes, &DecodeOptions::default()).unwrap();
        let (w, h) = (rgb.width, rgb.height);
        let rgba = rgba_of(&bytes, &DecodeOptions::default()).2;
        let geometry = Geometry::new(&PreprocessConfig::default(), w, h).unwrap();
        let rects = [
            GridRect::whole(w, h),
            GridRect::from_geometry(&geometry, w, h),
            // Partly outside the image (a padded crop), odd sizes.
            GridRect {
                x: -3,
                y: 2,
                width: w / 2 + 5,
                height: h + 4,
            },
        ];
        for (grid_w, grid_h) in [(7, 7), (3, 5), (1, 1)] {
            for (r, rect) in rects.iter().enumerate() {
                for (blur_radius, opacity, scale) in [
                    (0, 170, RelevanceScale::MinMax),
                    (
                        4,
                        255,
                        RelevanceScale::Fixed {
                            low: -0.1,
                            high: 0.3,
                        },
                    ),
                    (1, 90, RelevanceScale::MinMax),
                ] {
                    let options = OverlayOptions {
                        opacity,
                        blur_radius,
                        scale,
                    };
                    let values = relevance((grid_w * grid_h) as usize, cases);
                    let plan =
                        OverlayPlan::new(w, h, &values, grid_w, grid_h, *rect, &options).unwrap();
                    let cpu = render_overlay(&plan, &rgba).unwrap();
                    let gpu = pollster::block_on(render_overlay_gpu(&device.device, &plan, &rgba))
                        .unwrap();
                    let differing = cpu.iter().zip(&gpu).filter(|(a, b)| a != b).count();
                    assert_eq!(
                        differing, 0,
                        "{path} grid {grid_w}x{grid_h} rect {r} blur {blur_radius}: {differing} bytes differ"
                    );
                    assert_eq!(cpu.len(), gpu.len());
                    cases += 1;
                }
            }
        }
    }
    // Blur alone, and the CPU backend taking the CPU path.
    let bytes = read(fixture("preprocess/images/rgb_1200x900.png"));
    let rgba = rgba_of(&bytes, &DecodeOptions::default()).2;
    let plan = OverlayPlan::blur_only(1200, 900, 12).unwrap();
    let cpu = render_overlay(&plan, &rgba).unwrap();
    let gpu = pollster::block_on(render_overlay_gpu(&device.device, &plan, &rgba)).unwrap();
    assert!(cpu == gpu, "blur radius 12 on 1200x900 differs");
    let on_flex = pollster::block_on(render_overlay_on(&flex.device, &plan, &rgba)).unwrap();
    assert!(on_flex == cpu);
    println!(
        "{} overlay cases + a 1200x900 blur on {}: GPU bytes == CPU bytes",
        cases,
        device.describe()
    );
}
