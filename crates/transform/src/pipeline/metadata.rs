//! `md-true`: the input's EXIF carried over into the output (by default every output is
//! stripped, as ImageKit does). The EXIF is copied as it was, except its orientation, which is
//! set to "normal": the pixels were already turned upright. JPEG and PNG outputs carry it (an
//! APP1 segment, an `eXIf` chunk); WebP, AVIF and GIF outputs stay stripped. The colour profile
//! is not carried: outputs are converted to sRGB (`color_profile.rs`).

use super::{Format, InputKind};
use std::io::Cursor;

/// The largest EXIF block carried (one JPEG APP1 segment holds at most 65,533 bytes).
const MAX_EXIF: usize = 65_000;

/// The input's EXIF (a TIFF block), if it has one.
pub fn exif_of(bytes: &[u8], kind: InputKind) -> Option<Vec<u8>> {
    use image::ImageDecoder;
    let exif = match kind {
        InputKind::Jpeg => exif::get_exif_attr_from_jpeg(&mut Cursor::new(bytes)).ok()?,
        InputKind::Png => super::color_profile::png_header(bytes)?
            .exif_metadata()
            .ok()??,
        InputKind::Webp => image::codecs::webp::WebPDecoder::new(Cursor::new(bytes))
            .ok()?
            .exif_metadata()
            .ok()??,
        _ => return None,
    };
    (exif.len() <= MAX_EXIF).then(|| upright(exif))
}

/// `encoded` (of `format`) with `exif` in it; unchanged for formats that cannot carry it here.
pub fn with_exif(encoded: Vec<u8>, format: Format, exif: &[u8]) -> Vec<u8> {
    match format {
        Format::Jpeg if encoded.starts_with(&[0xFF, 0xD8]) => {
            with_jpeg_segment(&encoded, 0xE1, &[b"Exif\0\0", exif].concat())
        }
        Format::Png if encoded.len() > 33 => {
            // Right after the 8-byte signature and the 25-byte IHDR chunk.
            let mut chunk = (exif.len() as u32).to_be_bytes().to_vec();
            let mut hasher = crc32fast::Hasher::new();
            hasher.update(b"eXIf");
            hasher.update(exif);
            chunk.extend(b"eXIf");
            chunk.extend(exif);
            chunk.extend(hasher.finalize().to_be_bytes());
            [&encoded[..33], &chunk[..], &encoded[33..]].concat()
        }
        _ => encoded,
    }
}

/// `jpeg` with an application segment (`marker` 0xE0–0xEF) holding `payload` right after its
/// start-of-image marker. `payload` must fit one segment (65,533 bytes).
pub(super) fn with_jpeg_segment(jpeg: &[u8], marker: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(jpeg.len() + payload.len() + 4);
    out.extend(&jpeg[..2]);
    out.extend([0xFF, marker]);
    out.extend(((payload.len() + 2) as u16).to_be_bytes());
    out.extend(payload);
    out.extend(&jpeg[2..]);
    out
}

/// The TIFF block with its first image's orientation (tag 0x0112) set to 1.
fn upright(mut tiff: Vec<u8>) -> Vec<u8> {
    let big_endian = match tiff.get(..2) {
        Some(b"MM") => true,
        Some(b"II") => false,
        _ => return tiff,
    };
    // An unsigned number of `len` bytes at `at`, in the block's byte order.
    let read = |b: &[u8], at: usize, len: usize| -> Option<u32> {
        let bytes = b.get(at..at + len)?;
        let fold = |n: u32, byte: &u8| (n << 8) | *byte as u32;
        Some(match big_endian {
            true => bytes.iter().fold(0, fold),
            false => bytes.iter().rev().fold(0, fold),
        })
    };
    let read16 = |b: &[u8], at: usize| read(b, at, 2);
    let read32 = |b: &[u8], at: usize| read(b, at, 4);
    let Some(ifd) = read32(&tiff, 4).map(|o| o as usize) else {
        return tiff;
    };
    let count = read16(&tiff, ifd).unwrap_or(0) as usize;
    for entry in (0..count).map(|i| ifd + 2 + 12 * i) {
        if read16(&tiff, entry) == Some(0x0112) && read16(&tiff, entry + 2) == Some(3) {
            // A SHORT value sits in the first two bytes of the value field.
            let one = if big_endian { [0, 1] } else { [1, 0] };
            if let Some(value) = tiff.get_mut(entry + 8..entry + 10) {
                value.copy_from_slice(&one);
            }
        }
    }
    tiff
}
