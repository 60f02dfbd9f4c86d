//! Colour profiles on input: a picture that carries an ICC profile other than sRGB (a Display P3
//! photo from a phone, an Adobe RGB export) has its pixels converted to sRGB right after
//! decoding, with Firefox's colour management (`qcms`, perceptual intent). Every output is
//! sRGB without a profile — what browsers assume of an untagged image — so a wide-gamut
//! original is not shown washed out once its profile is stripped. A profile that cannot be
//! read is ignored (the pixels stay as they are).

use super::InputKind;
use image::DynamicImage;
use std::io::Cursor;

/// The embedded ICC profile of `bytes`, if it has one (JPEG, PNG, WebP).
pub fn embedded(bytes: &[u8], kind: InputKind) -> Option<Vec<u8>> {
    use image::ImageDecoder;
    match kind {
        InputKind::Jpeg => jpeg_icc(bytes),
        InputKind::Png => png_header(bytes)?.icc_profile().ok()?,
        InputKind::Webp => image::codecs::webp::WebPDecoder::new(Cursor::new(bytes))
            .ok()?
            .icc_profile()
            .ok()?,
        _ => None,
    }
}

/// Memory a PNG's ancillary chunks may take when its header is read: a compressed ICC profile
/// that inflates past this (a decompression bomb) is refused, not inflated.
const PNG_HEADER_ALLOWANCE: u64 = 8 << 20;

/// A PNG decoder that has read the header chunks (within [`PNG_HEADER_ALLOWANCE`]).
pub(super) fn png_header(bytes: &[u8]) -> Option<image::codecs::png::PngDecoder<Cursor<&[u8]>>> {
    let mut limits = image::Limits::default();
    limits.max_alloc = Some(PNG_HEADER_ALLOWANCE);
    image::codecs::png::PngDecoder::with_limits(Cursor::new(bytes), limits).ok()
}

/// `image` in sRGB, converted from `profile` (unchanged when the profile is unreadable, is
/// not an RGB profile, or already describes sRGB).
pub fn to_srgb(image: DynamicImage, profile: &[u8]) -> DynamicImage {
    let Some(input) = qcms::Profile::new_from_slice(profile, false) else {
        return image;
    };
    if input.is_sRGB() {
        return image;
    }
    let mut output = qcms::Profile::new_sRGB();
    output.precache_output_transform();
    let convert =
        |data_type| qcms::Transform::new(&input, &output, data_type, qcms::Intent::Perceptual);
    match image {
        DynamicImage::ImageRgb8(mut rgb) => match convert(qcms::DataType::RGB8) {
            Some(transform) => {
                transform.apply(&mut rgb);
                DynamicImage::ImageRgb8(rgb)
            }
            None => DynamicImage::ImageRgb8(rgb),
        },
        other => {
            let Some(transform) = convert(qcms::DataType::RGBA8) else {
                return other;
            };
            let mut rgba = other.to_rgba8();
            transform.apply(&mut rgba);
            DynamicImage::ImageRgba8(rgba)
        }
    }
}

/// The ICC profile of a JPEG: the `ICC_PROFILE` APP2 segments before the first scan, joined in
/// their sequence order.
fn jpeg_icc(bytes: &[u8]) -> Option<Vec<u8>> {
    const SIGNATURE: &[u8] = b"ICC_PROFILE\0";
    let mut chunks: Vec<(u8, &[u8])> = Vec::new();
    let mut at = 2;
    while at + 4 <= bytes.len() && bytes[at] == 0xFF {
        let marker = bytes[at + 1];
        if marker == 0xDA || marker == 0xD9 {
            break; // start of scan / end of image: no more headers
        }
        let length = u16::from_be_bytes([bytes[at + 2], bytes[at + 3]]) as usize;
        let segment = bytes.get(at + 4..at + 2 + length)?;
        if marker == 0xE2 && segment.len() > SIGNATURE.len() + 2 && segment.starts_with(SIGNATURE) {
            let sequence = segment[SIGNATURE.len()];
            chunks.push((sequence, &segment[SIGNATURE.len() + 2..]));
        }
        at += 2 + length;
    }
    if chunks.is_empty() {
        return None;
    }
    chunks.sort_by_key(|(sequence, _)| *sequence);
    Some(
        chunks
            .iter()
            .flat_map(|(_, data)| data.iter().copied())
            .collect(),
    )
}
