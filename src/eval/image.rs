//! One row's image as the evaluator needs it: bytes, MIME type, size, hash and base64.

use std::sync::Arc;

use futures_util::future::LocalBoxFuture;

use super::dataset::Row;
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

    /// `data:<mime>;base64,<data>`, the form OpenAI-style APIs take.
    pub fn data_url(&self) -> String {
        format!("data:{};base64,{}", self.mime, self.base64)
    }
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

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(ImageData::from_bytes(b"not an image").is_err());
    }
}
