//! One row's image as the evaluator needs it: bytes, MIME type, size, hash and base64.

use std::sync::Arc;

use futures_util::future::LocalBoxFuture;

use super::dataset::Row;
use crate::util::format::thousands;
use crate::util::hash;

/// An image ready to be sent: the base64 text is computed once and shared by the target and
/// the judge request.
#[derive(Clone, Debug)]
pub struct ImageData {
    pub mime: String,
    pub width: u32,
    pub height: u32,
    /// Store key part: `hash::short_hash` of the file bytes.
    pub hash: String,
    pub base64: Arc<str>,
}

#[derive(Debug, thiserror::Error)]
#[error("image for row {row} ({path}): {message}")]
pub struct ImageError {
    pub row: u64,
    pub path: String,
    pub message: String,
}

impl ImageData {
    /// Sniffs the format and reads the size from the header only (the pixels are not decoded).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, String> {
        let reader = ::image::ImageReader::new(std::io::Cursor::new(bytes))
            .with_guessed_format()
            .map_err(|e| e.to_string())?;
        let format = reader.format().ok_or("unknown image format")?;
        let (width, height) = reader.into_dimensions().map_err(|e| e.to_string())?;
        Ok(Self {
            mime: format.to_mime_type().to_string(),
            width,
            height,
            hash: hash::short_hash(bytes),
            base64: hash::base64(bytes).into(),
        })
    }

    /// Width and height from the header alone; `bytes` may be just the file's first kilobytes
    /// (what the cost estimate reads, so it never loads a whole download).
    pub fn dimensions(bytes: &[u8]) -> Result<(u32, u32), String> {
        ::image::ImageReader::new(std::io::Cursor::new(bytes))
            .with_guessed_format()
            .map_err(|e| e.to_string())?
            .into_dimensions()
            .map_err(|e| e.to_string())
    }

    /// An image without bytes: the prompt hashes ignore the image's bytes, so requests built
    /// with it have the real prompt keys (the planner and the results read the store so).
    pub fn stand_in() -> Self {
        Self {
            mime: String::new(),
            width: 0,
            height: 0,
            hash: String::new(),
            base64: "".into(),
        }
    }

    /// `data:<mime>;base64,<data>`, the form OpenAI-style APIs take.
    pub fn data_url(&self) -> String {
        format!("data:{};base64,{}", self.mime, self.base64)
    }
}

/// What an API accepts as an image. Checked before sending, so a row is not paid for and
/// then refused ([`fit`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ImageLimits {
    pub provider: &'static str,
    pub mimes: &'static [&'static str],
    /// Length of the base64 text.
    pub max_base64: usize,
    /// Longest side in pixels (`u32::MAX`: no limit).
    pub max_side: u32,
}

/// Anthropic (vision guide and Messages API): JPEG, PNG, GIF or WebP; at most 5 MB per image
/// (the API answers 400 "image exceeds 5 MB maximum: … bytes > 5242880 bytes"); at most 8000
/// pixels a side (2000 when a request holds more than 20 images, never the case here).
pub const ANTHROPIC_IMAGES: ImageLimits = ImageLimits {
    provider: "Anthropic",
    mimes: &["image/jpeg", "image/png", "image/gif", "image/webp"],
    max_base64: 5 * 1024 * 1024,
    max_side: 8000,
};

/// OpenAI (vision guide, "image input requirements"): PNG, JPEG, WebP or non-animated GIF,
/// up to 50 MB of payload per request; no pixel limit (images are scaled server-side).
pub const OPENAI_IMAGES: ImageLimits = ImageLimits {
    provider: "OpenAI",
    mimes: &["image/png", "image/jpeg", "image/webp", "image/gif"],
    max_base64: 50 * 1000 * 1000,
    max_side: u32::MAX,
};

fn encode(image: &::image::DynamicImage, jpeg: bool) -> Result<Vec<u8>, String> {
    let mut out = std::io::Cursor::new(Vec::new());
    if jpeg {
        let rgb = ::image::DynamicImage::ImageRgb8(image.to_rgb8());
        ::image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90)
            .encode_image(&rgb)
            .map_err(|e| e.to_string())?;
    } else {
        image
            .write_to(&mut out, ::image::ImageFormat::Png)
            .map_err(|e| e.to_string())?;
    }
    Ok(out.into_inner())
}

/// `image` as `limits` allow it: `Ok(None)` when it fits as it is; else a re-encoded copy
/// (PNG, or JPEG when the original was one; scaled down until it fits, in steps of 3/4) with a
/// note saying what changed, for the record; `Err` with the reason when even a small copy
/// would not fit or the image cannot be decoded. The copy keeps the original's hash: the
/// store's key names the file, the note the change.
pub fn fit(image: &ImageData, limits: &ImageLimits) -> Result<Option<(ImageData, String)>, String> {
    let type_ok = limits.mimes.contains(&image.mime.as_str());
    let side = image.width.max(image.height);
    if type_ok && image.base64.len() <= limits.max_base64 && side <= limits.max_side {
        return Ok(None);
    }
    let bytes = crate::util::hash::base64_decode(&image.base64)
        .ok_or("the image's base64 text is damaged")?;
    let decoded = ::image::load_from_memory(&bytes)
        .map_err(|e| format!("cannot be decoded to re-encode it: {e}"))?;
    let jpeg = image.mime == "image/jpeg";
    let mut scale = (f64::from(limits.max_side) / f64::from(side.max(1))).min(1.0);
    for _ in 0..12 {
        let (w, h) = (
            ((f64::from(image.width) * scale).round() as u32).max(1),
            ((f64::from(image.height) * scale).round() as u32).max(1),
        );
        let resized = if (w, h) == (decoded.width(), decoded.height()) {
            decoded.clone()
        } else {
            decoded.resize_exact(w, h, ::image::imageops::FilterType::Triangle)
        };
        let out = encode(&resized, jpeg)?;
        let base64 = crate::util::hash::base64(&out);
        if base64.len() <= limits.max_base64 {
            let mime = if jpeg { "image/jpeg" } else { "image/png" };
            let side = match limits.max_side {
                u32::MAX => String::new(),
                n => format!(", at most {n} px a side"),
            };
            let note = format!(
                "image re-encoded for {}'s limits ({}; at most {} bytes of base64{side}): {} \
                 {}×{} ({} bytes) sent as {mime} {w}×{h} ({} bytes)",
                limits.provider,
                limits.mimes.join(", "),
                thousands(limits.max_base64 as u64),
                image.mime,
                image.width,
                image.height,
                thousands(image.base64.len() as u64),
                thousands(base64.len() as u64),
            );
            let fitted = ImageData {
                mime: mime.to_owned(),
                width: w,
                height: h,
                hash: image.hash.clone(),
                base64: base64.into(),
            };
            return Ok(Some((fitted, note)));
        }
        scale *= 0.75;
    }
    Err(format!(
        "{} {}×{} does not fit {}'s limits even scaled down",
        image.mime, image.width, image.height, limits.provider
    ))
}

/// Where images come from: a folder natively, the user's picked directory in the browser.
pub trait ImageSource {
    fn load<'a>(&'a self, row: &'a Row) -> LocalBoxFuture<'a, Result<ImageData, ImageError>>;
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A real `w`×`h` PNG, encoded by the image crate.
    pub(crate) fn png(w: u32, h: u32) -> Vec<u8> {
        let mut out = std::io::Cursor::new(Vec::new());
        ::image::RgbImage::new(w, h)
            .write_to(&mut out, ::image::ImageFormat::Png)
            .expect("encode png");
        out.into_inner()
    }

    #[test]
    fn png_header_gives_mime_size_and_data_url() {
        let img = ImageData::from_bytes(&png(640, 480)).unwrap();
        assert_eq!(
            (img.mime.as_str(), img.width, img.height),
            ("image/png", 640, 480)
        );
        assert!(
            img.data_url()
                .starts_with("data:image/png;base64,iVBORw0KGgo")
        );
        assert_eq!(img.hash.len(), 32);
    }

    #[test]
    fn dimensions_need_only_the_header() {
        let bytes = png(300, 200);
        assert_eq!(ImageData::dimensions(&bytes[..64]), Ok((300, 200)));
    }

    fn noise_png(w: u32, h: u32) -> Vec<u8> {
        let mut state = 0x1234_5678u32;
        let img = ::image::RgbImage::from_fn(w, h, |_, _| {
            state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            let b = state.to_le_bytes();
            ::image::Rgb([b[1], b[2], b[3]])
        });
        let mut out = std::io::Cursor::new(Vec::new());
        img.write_to(&mut out, ::image::ImageFormat::Png).unwrap();
        out.into_inner()
    }

    #[test]
    fn images_over_a_providers_limits_are_scaled_down_with_a_note_or_refused() {
        let small = ImageData::from_bytes(&png(30, 20)).unwrap();
        assert!(matches!(fit(&small, &ANTHROPIC_IMAGES), Ok(None)));
        // Too wide: scaled to the longest side allowed, same aspect.
        let wide = ImageData::from_bytes(&png(8100, 4)).unwrap();
        let (fitted, note) = fit(&wide, &ANTHROPIC_IMAGES).unwrap().unwrap();
        assert_eq!(
            (fitted.width, fitted.height, fitted.hash.as_str()),
            (8000, 4, wide.hash.as_str())
        );
        assert!(note.contains("8100×4") && note.contains("8000×4"), "{note}");
        // Too many bytes (a small limit, so the test stays fast): scaled until it fits.
        let noisy = ImageData::from_bytes(&noise_png(120, 100)).unwrap();
        let limits = ImageLimits {
            max_base64: noisy.base64.len() / 2,
            ..ANTHROPIC_IMAGES
        };
        let (fitted, _) = fit(&noisy, &limits).unwrap().unwrap();
        assert!(fitted.base64.len() <= limits.max_base64 && fitted.width < 120);
        assert_eq!(
            ImageData::from_bytes(&crate::util::hash::base64_decode(&fitted.base64).unwrap())
                .unwrap()
                .width,
            fitted.width
        );
        // A type the provider does not take is re-encoded as PNG.
        let mut bmp = small.clone();
        bmp.mime = "image/bmp".into();
        let (fitted, _) = fit(&bmp, &ANTHROPIC_IMAGES).unwrap().unwrap();
        assert_eq!(fitted.mime, "image/png");
        // Nothing fits a limit of a few bytes.
        let tiny = ImageLimits {
            max_base64: 8,
            ..ANTHROPIC_IMAGES
        };
        assert!(
            fit(&noisy, &tiny)
                .unwrap_err()
                .contains("does not fit Anthropic's limits")
        );
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(ImageData::from_bytes(b"not an image").is_err());
    }
}
