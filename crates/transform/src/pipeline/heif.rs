//! AVIF and HEIC input through libheif (built from source; AV1 decoded by dav1d, HEVC by
//! libde265). The primary image's size is read from the container and checked against the
//! server's pixel limit before any pixel is decoded (by the caller, `decode_probed`); libheif's
//! own default security limits (image size, tiles, memory) stay in force. The rotation and
//! mirroring the file declares are applied by libheif while decoding.
//!
//! libheif's per-context security limits are deliberately not set: libheif-rs copies the C
//! struct at the version of its bindings (1.19) and hands that copy back to libheif 1.23, which
//! then reads fields past its end (seen as a random "limit of 2 bytes" refusal).

use super::ProcessError;
use super::decode::InputKind;
use image::{DynamicImage, RgbImage, RgbaImage};
use libheif_rs::{ColorSpace, HeifContext, LibHeif, RgbChroma};
use std::sync::OnceLock;

/// AVIF or HEIC, from the ISO-BMFF `ftyp` major brand.
pub fn kind_of(bytes: &[u8]) -> Option<InputKind> {
    if bytes.len() < 12 || &bytes[4..8] != b"ftyp" {
        return None;
    }
    match &bytes[8..12] {
        b"avif" | b"avis" => Some(InputKind::Avif),
        b"heic" | b"heix" | b"hevc" | b"hevx" | b"heim" | b"heis" | b"hevm" | b"hevs" | b"mif1"
        | b"msf1" => Some(InputKind::Heic),
        _ => None,
    }
}

/// Width and height of the primary image, as it will be decoded (rotation applied).
pub fn dimensions(bytes: &[u8]) -> Result<(u32, u32), ProcessError> {
    let context = HeifContext::read_from_bytes(bytes).map_err(corrupt)?;
    let handle = context.primary_image_handle().map_err(corrupt)?;
    Ok((handle.width(), handle.height()))
}

/// Decodes the primary image to RGB(A); the caller has checked its size.
pub fn decode(bytes: &[u8]) -> Result<DynamicImage, ProcessError> {
    let context = HeifContext::read_from_bytes(bytes).map_err(corrupt)?;
    let handle = context.primary_image_handle().map_err(corrupt)?;
    let alpha = handle.has_alpha_channel();
    let chroma = if alpha {
        RgbChroma::Rgba
    } else {
        RgbChroma::Rgb
    };
    let image = library()
        .decode(&handle, ColorSpace::Rgb(chroma), None)
        .map_err(corrupt)?;
    let plane = image
        .planes()
        .interleaved
        .ok_or_else(|| ProcessError::Corrupt("libheif gave no interleaved plane".into()))?;
    let channels = if alpha { 4 } else { 3 };
    let pixels = packed_rows(
        plane.data,
        plane.width,
        plane.height,
        plane.stride,
        channels,
    )?;
    let (w, h) = (plane.width, plane.height);
    let image = if alpha {
        RgbaImage::from_raw(w, h, pixels).map(DynamicImage::ImageRgba8)
    } else {
        RgbImage::from_raw(w, h, pixels).map(DynamicImage::ImageRgb8)
    };
    image.ok_or_else(|| ProcessError::Corrupt("decoded size mismatch".into()))
}

/// Copies rows out of a plane whose rows may be padded to `stride` bytes.
fn packed_rows(
    data: &[u8],
    width: u32,
    height: u32,
    stride: usize,
    channels: usize,
) -> Result<Vec<u8>, ProcessError> {
    let row = width as usize * channels;
    if stride < row || data.len() < stride * (height as usize).saturating_sub(1) + row {
        return Err(ProcessError::Corrupt(
            "libheif plane is smaller than its size".into(),
        ));
    }
    let mut pixels = Vec::with_capacity(row * height as usize);
    for y in 0..height as usize {
        pixels.extend_from_slice(&data[y * stride..y * stride + row]);
    }
    Ok(pixels)
}

/// libheif is initialised once for the process.
fn library() -> &'static LibHeif {
    static LIBRARY: OnceLock<LibHeif> = OnceLock::new();
    LIBRARY.get_or_init(LibHeif::new)
}

fn corrupt(e: libheif_rs::HeifError) -> ProcessError {
    ProcessError::Corrupt(e.to_string())
}
