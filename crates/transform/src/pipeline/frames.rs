//! Frame checks for animated inputs, without decoding pixels: a GIF's frames are walked with
//! LZW decoding switched off, an animated WebP's `ANMF` chunks are counted in its RIFF
//! container. Counting stops one past the limit, so a hostile file costs at most one pass over
//! its bytes. A GIF frame is also held to the pixel limit on its own: a 1x1 screen may not
//! carry a 14000x14000 frame, which the decoder would allocate in full.

use super::decode::InputKind;
use super::{Limits, ProcessError};

/// Refuses `bytes` when it holds more than `limits.max_frames` frames, or a frame larger than
/// `limits.max_input_pixels`; otherwise says how many frames it has.
pub fn check(kind: InputKind, bytes: &[u8], limits: Limits) -> Result<u32, ProcessError> {
    let max_frames = limits.max_frames;
    let frames = match kind {
        InputKind::Gif => gif_frames(bytes, max_frames, limits.max_input_pixels)?,
        InputKind::Webp => webp_frames(bytes, max_frames),
        // Image sequences in HEIF are not decoded: only the primary image is.
        InputKind::Jpeg | InputKind::Png | InputKind::Svg | InputKind::Avif | InputKind::Heic => 1,
    };
    if frames > max_frames {
        return Err(ProcessError::TooManyFrames { limit: max_frames });
    }
    Ok(frames)
}

fn gif_frames(bytes: &[u8], max_frames: u32, max_pixels: u64) -> Result<u32, ProcessError> {
    let mut options = gif::DecodeOptions::new();
    options.skip_frame_decoding(true);
    options.check_frame_consistency(false);
    let mut decoder = options
        .read_info(bytes)
        .map_err(|e| ProcessError::Corrupt(e.to_string()))?;
    let mut frames = 0;
    while frames <= max_frames {
        match decoder.read_next_frame() {
            Ok(Some(frame)) => {
                let (width, height) = (frame.width as u32, frame.height as u32);
                if width as u64 * height as u64 > max_pixels {
                    return Err(ProcessError::TooManyPixels {
                        width,
                        height,
                        limit: max_pixels,
                    });
                }
                frames += 1;
            }
            // A damaged tail after the frames that count is the decoder's business, not ours.
            Ok(None) | Err(_) => break,
        }
    }
    Ok(frames)
}

/// Counts `ANMF` chunks; a still WebP has none and counts as one frame.
fn webp_frames(bytes: &[u8], max_frames: u32) -> u32 {
    let mut frames = 0u32;
    let mut at = 12; // "RIFF" size "WEBP"
    while at + 8 <= bytes.len() && frames <= max_frames {
        let fourcc = &bytes[at..at + 4];
        let size = u32::from_le_bytes([bytes[at + 4], bytes[at + 5], bytes[at + 6], bytes[at + 7]]);
        if fourcc == b"ANMF" {
            frames += 1;
        }
        // Chunks are padded to an even size.
        let padded = (size as usize).saturating_add(size as usize & 1);
        at = at.saturating_add(8).saturating_add(padded);
    }
    frames.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::codecs::gif::GifEncoder;
    use image::{Delay, Frame, RgbaImage};

    fn gif_with(frames: usize) -> Vec<u8> {
        let mut out = Vec::new();
        {
            let mut encoder = GifEncoder::new(&mut out);
            let frames = (0..frames).map(|i| {
                let pixel = image::Rgba([i as u8, 0, 0, 255]);
                Frame::from_parts(
                    RgbaImage::from_pixel(2, 2, pixel),
                    0,
                    0,
                    Delay::from_numer_denom_ms(10, 1),
                )
            });
            encoder.encode_frames(frames).unwrap();
        }
        out
    }

    fn animated_webp(frames: usize) -> Vec<u8> {
        let mut body = b"WEBPVP8X".to_vec();
        body.extend_from_slice(&10u32.to_le_bytes());
        body.extend_from_slice(&[0x02, 0, 0, 0, 1, 0, 0, 1, 0, 0]);
        for _ in 0..frames {
            body.extend_from_slice(b"ANMF");
            body.extend_from_slice(&3u32.to_le_bytes());
            body.extend_from_slice(&[0, 0, 0, 0]); // 3 bytes + 1 padding
        }
        let mut riff = b"RIFF".to_vec();
        riff.extend_from_slice(&(body.len() as u32).to_le_bytes());
        riff.extend_from_slice(&body);
        riff
    }

    fn frames(max_frames: u32) -> Limits {
        Limits {
            max_frames,
            ..Limits::default()
        }
    }

    #[test]
    fn counts_gif_frames_up_to_the_limit() {
        assert!(check(InputKind::Gif, &gif_with(3), frames(3)).is_ok());
        assert_eq!(
            check(InputKind::Gif, &gif_with(4), frames(3)),
            Err(ProcessError::TooManyFrames { limit: 3 })
        );
    }

    /// A frame is held to the pixel limit whatever the logical screen says.
    #[test]
    fn refuses_a_frame_larger_than_the_pixel_limit() {
        let bytes = crate::hostile_inputs::gif_frame_declaring(14000, 14000);
        let limits = Limits {
            max_input_pixels: 100_000_000,
            ..Limits::default()
        };
        assert!(matches!(
            check(InputKind::Gif, &bytes, limits),
            Err(ProcessError::TooManyPixels {
                width: 14000,
                height: 14000,
                ..
            })
        ));
    }

    #[test]
    fn counts_webp_animation_chunks() {
        assert_eq!(webp_frames(&animated_webp(5), 100), 5);
        assert_eq!(webp_frames(&animated_webp(50), 10), 11, "stops one past");
        assert!(check(InputKind::Webp, &animated_webp(2), frames(1)).is_err());
        assert_eq!(webp_frames(b"RIFF\x04\x00\x00\x00WEBP", 10), 1);
        // A size field pointing far past the end does not overflow or loop.
        let mut hostile = animated_webp(1);
        hostile[16..20].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(webp_frames(&hostile, 10), 1);
    }
}
