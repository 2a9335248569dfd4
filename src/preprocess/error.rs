//! Everything that can go wrong in preprocessing; each message says what to do about it.

/// Everything that can go wrong; each message says what to do about it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum PreprocessError {
    /// `preprocessor_config.json` is not valid JSON or holds a value CLIP cannot use.
    #[error(
        "invalid preprocessor config: {0}; fix preprocessor_config.json (CLIP keys: do_resize, size, resample, do_center_crop, crop_size, do_rescale, rescale_factor, do_normalize, image_mean, image_std, do_convert_rgb)"
    )]
    Config(String),
    /// More encoded bytes than any image this tool reads.
    #[error(
        "the image file is {bytes} bytes, over the {limit}-byte limit; downscale or re-encode it"
    )]
    FileTooLarge {
        /// Size of the file.
        bytes: u64,
        /// `MAX_ENCODED_BYTES`.
        limit: u64,
    },
    /// Zero bytes were passed.
    #[error("no image data (0 bytes); pass the contents of a PNG, JPEG, WebP or GIF file")]
    EmptyInput,
    /// The bytes are not any image format the `image` crate knows.
    #[error("unrecognised image data (starts with {0}); pass a PNG, JPEG, WebP or GIF file")]
    UnknownFormat(String),
    /// A known format that this build cannot decode.
    #[error("{0} images are not supported; convert the image to PNG, JPEG, WebP or GIF")]
    UnsupportedFormat(String),
    /// A feature of a supported format that the decoder does not implement.
    #[error(
        "unsupported {format} variant: {message}; re-encode the image (e.g. as 8-bit PNG or baseline JPEG)"
    )]
    UnsupportedContent {
        /// Container format.
        format: &'static str,
        /// Decoder message.
        message: String,
    },
    /// Truncated or corrupt file.
    #[error(
        "could not decode the {format} image: {message}; the file is probably truncated or corrupt, re-export or re-download it"
    )]
    Decode {
        /// Container format.
        format: &'static str,
        /// Decoder message.
        message: String,
    },
    /// The image has a zero side.
    #[error("the image has no pixels ({width}x{height}); pass a non-empty image")]
    EmptyImage {
        /// Width in pixels.
        width: u64,
        /// Height in pixels.
        height: u64,
    },
    /// Over the `DecodeOptions` size limits; nothing was allocated.
    #[error(
        "the image is {width}x{height} pixels, over the limit of {max_side} pixels per side and {max_pixels} pixels in total; downscale it first (or raise DecodeOptions limits)"
    )]
    TooLarge {
        /// Width in pixels.
        width: u64,
        /// Height in pixels.
        height: u64,
        /// `DecodeOptions::max_side`.
        max_side: u32,
        /// `DecodeOptions::max_pixels`.
        max_pixels: u64,
    },
    /// The decoder would exceed `DecodeOptions::max_decode_alloc`.
    #[error(
        "decoding the image needs more than {limit_bytes} bytes of memory; downscale it first (or raise DecodeOptions::max_decode_alloc)"
    )]
    MemoryLimit {
        /// The limit in bytes.
        limit_bytes: u64,
    },
    /// A raw pixel buffer (`preprocess_rgba` or an `Rgb8Image`) has the wrong length.
    #[error(
        "the pixel buffer holds {actual} bytes but {width}x{height} pixels need {expected} ({channels} bytes per pixel, rows top to bottom, no padding); pass the buffer with its own width and height (for a canvas: ImageData.data, .width, .height)"
    )]
    BufferLength {
        /// Width in pixels.
        width: u32,
        /// Height in pixels.
        height: u32,
        /// Bytes per pixel: 4 for RGBA, 3 for `Rgb8Image`.
        channels: u8,
        /// `width * height * channels`.
        expected: u64,
        /// The slice length.
        actual: usize,
    },
    /// The resize target is absurdly large for this image (extreme aspect ratio).
    #[error(
        "resizing the {width}x{height} image gives a {resized_width}x{resized_height} image, over {max_side} pixels per side; crop the image to a less extreme aspect ratio"
    )]
    ResizeTooLarge {
        /// Source width.
        width: u32,
        /// Source height.
        height: u32,
        /// Resize width.
        resized_width: u64,
        /// Resize height.
        resized_height: u64,
        /// `MAX_RESIZED_SIDE`.
        max_side: u64,
    },
    /// Without a center crop the output would be too large.
    #[error(
        "the preprocessed image would be {width}x{height} pixels, over the limit of {max_pixels}; enable do_center_crop or choose a smaller size"
    )]
    OutputTooLarge {
        /// Output width.
        width: u64,
        /// Output height.
        height: u64,
        /// `DecodeOptions::max_pixels`.
        max_pixels: u64,
    },
}
