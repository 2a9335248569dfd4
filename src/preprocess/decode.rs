//! Encoded bytes (PNG, JPEG, WebP, GIF) → 8-bit RGB with Pillow's mode semantics, within the
//! [`DecodeOptions`] limits (checked on the header, before any pixel buffer is allocated).

use std::io::Cursor;
use std::sync::{Condvar, Mutex, MutexGuard};

use super::error::PreprocessError;
use super::pixels::Rgb8Image;

/// Default cap on decoded (and output) pixel count: 64 Mi pixels.
pub const DEFAULT_MAX_PIXELS: u64 = 64 * 1024 * 1024;
/// Default cap on each image side.
pub const DEFAULT_MAX_SIDE: u32 = 65_535;
/// Default cap on a single decoder's allocations, passed to the `image` crate's `Limits`.
pub const DEFAULT_MAX_DECODE_ALLOC: u64 = 1 << 30;
/// Largest encoded image accepted (a file or an archive member): a 64-megapixel PNG of noise
/// is about 200 MB, anything larger is not a picture.
pub const MAX_ENCODED_BYTES: u64 = 256 << 20;
/// Pixels decoded at the same time in the whole process, on every thread together: one image
/// of the maximum size. Decoding costs about 12 bytes a pixel at its peak (the decoder's
/// buffer, the RGB copy), so parallel decoding (the CLI decodes on every core) never holds more
/// than one maximum image's worth, ~0.8 GB, however many cores there are.
pub const MAX_PIXELS_IN_FLIGHT: u64 = DEFAULT_MAX_PIXELS;

/// Shares [`MAX_PIXELS_IN_FLIGHT`] (or another cap) among threads that decode: a decode waits
/// until its pixels fit, except when nothing else is in flight (a single image always runs).
pub struct DecodeBudget {
    cap: u64,
    flight: Mutex<Flight>,
    freed: Condvar,
}

#[derive(Default)]
struct Flight {
    now: u64,
    peak: u64,
}

impl DecodeBudget {
    pub const fn new(cap: u64) -> Self {
        Self {
            cap,
            flight: Mutex::new(Flight { now: 0, peak: 0 }),
            freed: Condvar::new(),
        }
    }

    /// The process-wide budget every decode uses unless given another.
    pub fn global() -> &'static Self {
        static GLOBAL: DecodeBudget = DecodeBudget::new(MAX_PIXELS_IN_FLIGHT);
        &GLOBAL
    }

    /// Most pixels in flight at once so far.
    pub fn peak(&self) -> u64 {
        self.lock().peak
    }

    fn lock(&self) -> MutexGuard<'_, Flight> {
        self.flight.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits until `pixels` fit, then holds them until the permit is dropped. (Single-threaded
    /// code, the browser's, never waits: its permits are dropped before the next is asked for.)
    pub fn acquire(&self, pixels: u64) -> DecodePermit<'_> {
        let mut flight = self.lock();
        while flight.now > 0 && flight.now.saturating_add(pixels) > self.cap {
            flight = self.freed.wait(flight).unwrap_or_else(|e| e.into_inner());
        }
        flight.now = flight.now.saturating_add(pixels);
        flight.peak = flight.peak.max(flight.now);
        DecodePermit {
            budget: self,
            pixels,
        }
    }
}

/// Pixels held in a [`DecodeBudget`]; given back when dropped.
pub struct DecodePermit<'a> {
    budget: &'a DecodeBudget,
    pixels: u64,
}

impl Drop for DecodePermit<'_> {
    fn drop(&mut self) {
        let mut flight = self.budget.lock();
        flight.now = flight.now.saturating_sub(self.pixels);
        drop(flight);
        self.budget.freed.notify_all();
    }
}

/// Decoding options and resource limits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodeOptions {
    /// Rotate/flip per the EXIF orientation tag (JPEG, PNG `eXIf`, WebP). Default `false`,
    /// matching `CLIPImageProcessor` on a PIL image; `true` matches transformers'
    /// `load_image` (paths, URLs, pipelines) and browsers.
    pub apply_exif_orientation: bool,
    /// Maximum width and height, checked from the header before decoding.
    pub max_side: u32,
    /// Maximum pixel count of the decoded image and of the preprocessed output.
    pub max_pixels: u64,
    /// Maximum allocation of one decoder (the `image` crate's `Limits::max_alloc`).
    pub max_decode_alloc: u64,
}

impl Default for DecodeOptions {
    fn default() -> Self {
        Self {
            apply_exif_orientation: false,
            max_side: DEFAULT_MAX_SIDE,
            max_pixels: DEFAULT_MAX_PIXELS,
            max_decode_alloc: DEFAULT_MAX_DECODE_ALLOC,
        }
    }
}

impl DecodeOptions {
    pub(crate) fn check_size(&self, width: u64, height: u64) -> Result<(), PreprocessError> {
        if width == 0 || height == 0 {
            return Err(PreprocessError::EmptyImage { width, height });
        }
        if width > u64::from(self.max_side)
            || height > u64::from(self.max_side)
            || width.saturating_mul(height) > self.max_pixels
        {
            return Err(PreprocessError::TooLarge {
                width,
                height,
                max_side: self.max_side,
                max_pixels: self.max_pixels,
            });
        }
        Ok(())
    }
}

fn format_name(f: image::ImageFormat) -> &'static str {
    match f {
        image::ImageFormat::Png => "PNG",
        image::ImageFormat::Jpeg => "JPEG",
        image::ImageFormat::WebP => "WebP",
        image::ImageFormat::Gif => "GIF",
        _ => "image",
    }
}

fn map_image_error(
    e: image::ImageError,
    format: &'static str,
    opts: &DecodeOptions,
) -> PreprocessError {
    use image::error::{ImageError, LimitErrorKind};
    match e {
        ImageError::Limits(l) => match l.kind() {
            LimitErrorKind::InsufficientMemory => PreprocessError::MemoryLimit {
                limit_bytes: opts.max_decode_alloc,
            },
            _ => PreprocessError::Decode {
                format,
                message: l.to_string(),
            },
        },
        ImageError::Unsupported(u) => PreprocessError::UnsupportedContent {
            format,
            message: u.to_string(),
        },
        other => PreprocessError::Decode {
            format,
            message: other.to_string(),
        },
    }
}

/// Decodes PNG, JPEG, WebP or GIF bytes to RGB exactly as Pillow's `Image.open(...)
/// .convert("RGB")` does (module docs list the mode rules), within the process-wide
/// [`DecodeBudget`].
pub fn decode_rgb(bytes: &[u8], opts: &DecodeOptions) -> Result<Rgb8Image, PreprocessError> {
    decode_rgb_in(bytes, opts, DecodeBudget::global()).map(|(rgb, _)| rgb)
}

/// [`decode_rgb`] within `budget`; the permit holds the image's pixels in the budget until
/// the caller drops it (after resizing, so the RGB copy counts too).
pub fn decode_rgb_in<'b>(
    bytes: &[u8],
    opts: &DecodeOptions,
    budget: &'b DecodeBudget,
) -> Result<(Rgb8Image, DecodePermit<'b>), PreprocessError> {
    if bytes.is_empty() {
        return Err(PreprocessError::EmptyInput);
    }
    if bytes.len() as u64 > MAX_ENCODED_BYTES {
        return Err(PreprocessError::FileTooLarge {
            bytes: bytes.len() as u64,
            limit: MAX_ENCODED_BYTES,
        });
    }
    let format = image::guess_format(bytes).map_err(|_| {
        let head: Vec<String> = bytes.iter().take(8).map(|b| format!("{b:02x}")).collect();
        PreprocessError::UnknownFormat(format!("bytes {}", head.join(" ")))
    })?;
    match format {
        image::ImageFormat::Gif => decode_gif(bytes, opts, budget),
        image::ImageFormat::Png | image::ImageFormat::Jpeg | image::ImageFormat::WebP => {
            decode_with_image_crate(bytes, format, opts, budget)
        }
        other => Err(PreprocessError::UnsupportedFormat(
            format!("{other:?}").to_uppercase(),
        )),
    }
}

/// PNG bit depth and colour type from the IHDR chunk, if this is a PNG.
fn png_ihdr(bytes: &[u8]) -> Option<(u8, u8)> {
    const SIG: &[u8] = b"\x89PNG\r\n\x1a\n";
    if bytes.len() >= 26 && bytes.starts_with(SIG) && &bytes[12..16] == b"IHDR" {
        Some((bytes[24], bytes[25]))
    } else {
        None
    }
}

/// Walks the JPEG marker segments (skipping entropy-coded data) and reports whether the
/// end-of-image marker is reached, i.e. whether the file is complete.
fn jpeg_reaches_eoi(b: &[u8]) -> bool {
    let mut i = 2; // after SOI
    loop {
        // Find the next marker, skipping stray bytes and 0xFF fill bytes.
        while i < b.len() && b[i] != 0xFF {
            i += 1;
        }
        while i < b.len() && b[i] == 0xFF {
            i += 1;
        }
        let Some(&m) = b.get(i) else { return false };
        i += 1;
        match m {
            0xD9 => return true,
            0x01 | 0xD0..=0xD7 => continue,
            _ => {}
        }
        let Some(len) = b
            .get(i..i + 2)
            .map(|l| usize::from(u16::from_be_bytes([l[0], l[1]])))
        else {
            return false;
        };
        i += len;
        if i > b.len() {
            return false;
        }
        if m == 0xDA {
            // Entropy-coded data: runs until a marker other than stuffing (FF 00) or RSTn.
            loop {
                match (b.get(i), b.get(i + 1)) {
                    (Some(0xFF), Some(&n))
                        if n != 0x00 && !(0xD0..=0xD7).contains(&n) && n != 0xFF =>
                    {
                        break;
                    }
                    (Some(_), Some(_)) => i += 1,
                    _ => return false,
                }
            }
        }
    }
}

fn decode_with_image_crate<'b>(
    bytes: &[u8],
    format: image::ImageFormat,
    opts: &DecodeOptions,
    budget: &'b DecodeBudget,
) -> Result<(Rgb8Image, DecodePermit<'b>), PreprocessError> {
    use image::ImageDecoder;
    let name = format_name(format);
    let err = |e| map_image_error(e, name, opts);

    let mut limits = image::Limits::default();
    limits.max_alloc = Some(opts.max_decode_alloc);
    let mut reader = image::ImageReader::with_format(Cursor::new(bytes), format);
    reader.limits(limits.clone());
    let mut decoder = reader.into_decoder().map_err(err)?;
    let (w, h) = decoder.dimensions();
    opts.check_size(w.into(), h.into())?;
    let permit = budget.acquire(u64::from(w) * u64::from(h));
    limits.max_image_width = Some(opts.max_side);
    limits.max_image_height = Some(opts.max_side);
    decoder.set_limits(limits).map_err(err)?;
    if format == image::ImageFormat::Jpeg && !jpeg_reaches_eoi(bytes) {
        // zune-jpeg pads a truncated scan with grey; Pillow (libjpeg) refuses the file.
        return Err(PreprocessError::Decode {
            format: name,
            message: "the data ends before the end-of-image marker".into(),
        });
    }
    let orientation = if opts.apply_exif_orientation {
        decoder
            .orientation()
            .unwrap_or(image::metadata::Orientation::NoTransforms)
    } else {
        image::metadata::Orientation::NoTransforms
    };
    let mut img = image::DynamicImage::from_decoder(decoder).map_err(err)?;
    img.apply_orientation(orientation);

    // Pillow opens 16-bit greyscale PNG (colour type 0, with or without tRNS) as "I;16",
    // whose convert("RGB") saturates at 255; every other 16-bit PNG keeps the high byte.
    let saturate_grey16 = matches!(png_ihdr(bytes), Some((16, 0)));
    Ok((dynamic_to_rgb(img, saturate_grey16), permit))
}

fn dynamic_to_rgb(img: image::DynamicImage, saturate_grey16: bool) -> Rgb8Image {
    use image::DynamicImage as D;
    let (width, height) = (img.width(), img.height());
    let grey16 = |v: u16| {
        if saturate_grey16 {
            v.min(255) as u8
        } else {
            (v >> 8) as u8
        }
    };
    let mut data = Vec::with_capacity(width as usize * height as usize * 3);
    match img {
        D::ImageRgb8(b) => data = b.into_raw(),
        D::ImageRgba8(b) => b
            .as_raw()
            .chunks_exact(4)
            .for_each(|p| data.extend_from_slice(&p[..3])),
        D::ImageLuma8(b) => b
            .as_raw()
            .iter()
            .for_each(|&v| data.extend_from_slice(&[v, v, v])),
        D::ImageLumaA8(b) => b
            .as_raw()
            .chunks_exact(2)
            .for_each(|p| data.extend_from_slice(&[p[0]; 3])),
        D::ImageLuma16(b) => b
            .as_raw()
            .iter()
            .for_each(|&v| data.extend_from_slice(&[grey16(v); 3])),
        D::ImageLumaA16(b) => b
            .as_raw()
            .chunks_exact(2)
            .for_each(|p| data.extend_from_slice(&[grey16(p[0]); 3])),
        D::ImageRgb16(b) => b.as_raw().iter().for_each(|&v| data.push((v >> 8) as u8)),
        D::ImageRgba16(b) => b.as_raw().chunks_exact(4).for_each(|p| {
            data.extend_from_slice(&[(p[0] >> 8) as u8, (p[1] >> 8) as u8, (p[2] >> 8) as u8])
        }),
        other => data = other.to_rgb8().into_raw(),
    }
    Rgb8Image {
        width,
        height,
        data,
    }
}

/// First GIF frame, composed as Pillow composes it (module docs).
fn decode_gif<'b>(
    bytes: &[u8],
    opts: &DecodeOptions,
    budget: &'b DecodeBudget,
) -> Result<(Rgb8Image, DecodePermit<'b>), PreprocessError> {
    let derr = |e: gif::DecodingError| match e {
        gif::DecodingError::MemoryLimit => PreprocessError::MemoryLimit {
            limit_bytes: opts.max_decode_alloc,
        },
        other => PreprocessError::Decode {
            format: "GIF",
            message: other.to_string(),
        },
    };
    let mut o = gif::DecodeOptions::new();
    o.set_color_output(gif::ColorOutput::Indexed);
    if let Some(limit) = std::num::NonZeroU64::new(opts.max_decode_alloc) {
        o.set_memory_limit(gif::MemoryLimit::Bytes(limit));
    }
    let mut dec = o.read_info(Cursor::new(bytes)).map_err(derr)?;
    let (sw, sh) = (u32::from(dec.width()), u32::from(dec.height()));
    let global = dec.global_palette().map(<[u8]>::to_vec);
    let Some(frame) = dec.next_frame_info().map_err(derr)? else {
        return Err(PreprocessError::Decode {
            format: "GIF",
            message: "the file has no image frame".into(),
        });
    };
    let (left, top) = (u32::from(frame.left), u32::from(frame.top));
    let (fw, fh) = (u32::from(frame.width), u32::from(frame.height));
    let transparent = frame.transparent;
    let palette = frame.palette.clone().or(global);
    // Pillow grows the canvas when the first frame sticks out of the logical screen.
    let (cw, ch) = (sw.max(left + fw), sh.max(top + fh));
    opts.check_size(cw.into(), ch.into())?;
    opts.check_size(fw.max(1).into(), fh.max(1).into())?;
    let permit = budget.acquire(u64::from(cw) * u64::from(ch));
    let mut indices = vec![0u8; dec.buffer_size()];
    dec.read_into_buffer(&mut indices).map_err(derr)?;

    let fill = transparent.unwrap_or(0);
    let mut canvas = vec![fill; cw as usize * ch as usize];
    for y in 0..fh as usize {
        let src = &indices[y * fw as usize..(y + 1) * fw as usize];
        let row = (top as usize + y) * cw as usize + left as usize;
        canvas[row..row + fw as usize].copy_from_slice(src);
    }
    // No palette, or the identity grey ramp: Pillow uses mode "L" (index = grey level).
    let is_ramp = |p: &[u8]| {
        p.chunks_exact(3)
            .enumerate()
            .all(|(i, c)| c.iter().all(|&v| usize::from(v) == i))
    };
    let lut: Vec<[u8; 3]> = match palette.as_deref() {
        Some(p) if !is_ramp(p) => (0..256)
            .map(|i| {
                p.get(i * 3..i * 3 + 3)
                    .map_or([0, 0, 0], |c| [c[0], c[1], c[2]])
            })
            .collect(),
        _ => (0..=255u8).map(|i| [i, i, i]).collect(),
    };
    let mut data = Vec::with_capacity(canvas.len() * 3);
    for &i in &canvas {
        data.extend_from_slice(&lut[usize::from(i)]);
    }
    Ok((
        Rgb8Image {
            width: cw,
            height: ch,
            data,
        },
        permit,
    ))
}
