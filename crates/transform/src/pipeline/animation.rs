//! Animated GIF and WebP kept animated: frames are decoded one at a time (each composited on the
//! canvas as its format says), run through the steps like a still image, and handed to the
//! output encoder at once — never all frames decoded together. Each frame keeps its delay.
//! `f-gif`, `f-webp`, `f-orig`, and `f-auto` (animated WebP where the client takes WebP, else
//! GIF) keep the animation; `f-jpg`, `f-png`, `f-avif` and `pg-<n>` give one frame.

use super::animated_webp::AnimatedWebp;
use super::decode::InputKind;
use super::layers::Context;
use super::{FormatChoice, Output, ProcessError};
use crate::{Format, Step};
use image::codecs::gif::{GifDecoder, GifEncoder, Repeat};
use image::codecs::webp::WebPDecoder;
use image::{AnimationDecoder, Delay, DynamicImage, Frame, Frames, RgbaImage};
use std::io::Cursor;

/// The animated format the output keeps, or `None` when it is a still image.
pub(super) fn animated_output(
    requested: Option<Format>,
    kind: InputKind,
    choice: FormatChoice,
) -> Option<Format> {
    let own = match kind {
        InputKind::Gif => Format::Gif,
        InputKind::Webp => Format::Webp,
        _ => return None,
    };
    // AVIF sequences are not written: an automatic choice is WebP or GIF.
    let automatic = if choice.accepts_webp {
        Format::Webp
    } else {
        Format::Gif
    };
    match requested {
        Some(Format::Gif) => Some(Format::Gif),
        Some(Format::Webp) => Some(Format::Webp),
        Some(Format::Original) => Some(own),
        Some(Format::Jpeg | Format::Png | Format::Avif) => None,
        Some(Format::Auto) => Some(automatic),
        None if choice.best_format => Some(automatic),
        None => Some(own),
    }
}

/// Settings of the output animation.
pub(super) struct AnimationOptions {
    pub format: Format,
    pub quality: u8,
    pub lossless: bool,
}

/// Runs `steps` on every frame of the animation in `bytes` (its canvas `initial` large) and
/// writes the frames as they come.
pub(super) fn process(
    bytes: &[u8],
    kind: InputKind,
    initial: (u32, u32),
    steps: &[Step],
    options: AnimationOptions,
    context: &Context,
) -> Result<Output, ProcessError> {
    let mut gif_bytes = Vec::new();
    let mut gif_target = Some(&mut gif_bytes);
    let mut sink: Option<Sink> = None;
    let mut size = (0, 0);
    let mut at_ms: u64 = 0;
    for frame in frames(bytes, kind)? {
        let frame = frame.map_err(|e| ProcessError::Corrupt(e.to_string()))?;
        let delay_ms = delay_ms(frame.delay());
        let image = DynamicImage::ImageRgba8(frame.into_buffer());
        let mut rgba = super::run_steps(image, steps, initial, None, context)?.into_rgba8();
        let sink = match &mut sink {
            Some(sink) => sink,
            None => {
                size = rgba.dimensions();
                let target = gif_target
                    .take()
                    .unwrap_or_else(|| unreachable!("one sink"));
                sink.insert(Sink::new(&options, size, target)?)
            }
        };
        // Steps that depend on the pixels (trim, smart crop) can size frames differently:
        // every frame takes the first one's size.
        if rgba.dimensions() != size {
            rgba = image::imageops::resize(&rgba, size.0, size.1, image::imageops::Triangle);
        }
        sink.add(rgba, at_ms, delay_ms)?;
        at_ms += delay_ms;
        context.budget.check("a frame of the animation")?;
    }
    let sink = sink.ok_or_else(|| ProcessError::Corrupt("an animation without frames".into()))?;
    // A GIF's trailer is written when its encoder is dropped, into `gif_bytes`.
    let bytes = sink.finish(at_ms)?.unwrap_or(gif_bytes);
    Ok(Output {
        bytes,
        format: options.format,
        width: size.0,
        height: size.1,
        warnings: Vec::new(),
    })
}

/// Frame `n` (from 1) of an animation as a still image.
pub(super) fn nth_frame(
    bytes: &[u8],
    kind: InputKind,
    n: u32,
) -> Result<DynamicImage, ProcessError> {
    let mut count = 0;
    for frame in frames(bytes, kind)? {
        count += 1;
        let frame = frame.map_err(|e| ProcessError::Corrupt(e.to_string()))?;
        if count == n {
            return Ok(DynamicImage::ImageRgba8(frame.into_buffer()));
        }
    }
    Err(ProcessError::Geometry(format!(
        "pg-{n}: the image has {count} frame{}",
        if count == 1 { "" } else { "s" }
    )))
}

/// The composited frames of a GIF or WebP, decoded as they are asked for.
fn frames(bytes: &[u8], kind: InputKind) -> Result<Frames<'_>, ProcessError> {
    let corrupt = |e: image::ImageError| ProcessError::Corrupt(e.to_string());
    match kind {
        InputKind::Gif => Ok(GifDecoder::new(Cursor::new(bytes))
            .map_err(corrupt)?
            .into_frames()),
        InputKind::Webp => Ok(WebPDecoder::new(Cursor::new(bytes))
            .map_err(corrupt)?
            .into_frames()),
        _ => Err(ProcessError::UnsupportedInput(
            "only GIF and WebP have frames".into(),
        )),
    }
}

fn delay_ms(delay: Delay) -> u64 {
    let (numerator, denominator) = delay.numer_denom_ms();
    (numerator as u64 / denominator.max(1) as u64).min(65_535 * 10)
}

/// Where frames go: a GIF written into a buffer as they come, or libwebp's animation encoder.
enum Sink<'a> {
    Gif(Box<GifEncoder<&'a mut Vec<u8>>>),
    Webp(AnimatedWebp),
}

impl<'a> Sink<'a> {
    fn new(
        options: &AnimationOptions,
        (width, height): (u32, u32),
        gif_bytes: &'a mut Vec<u8>,
    ) -> Result<Sink<'a>, ProcessError> {
        const QUANTIZE_SPEED: i32 = 10;
        match options.format {
            Format::Gif => {
                if width > u16::MAX as u32 || height > u16::MAX as u32 {
                    return Err(ProcessError::Encode(
                        "a GIF is at most 65535 px a side".into(),
                    ));
                }
                let mut encoder = GifEncoder::new_with_speed(gif_bytes, QUANTIZE_SPEED);
                encoder.set_repeat(Repeat::Infinite).map_err(encode)?;
                Ok(Sink::Gif(Box::new(encoder)))
            }
            _ => Ok(Sink::Webp(AnimatedWebp::new(
                width,
                height,
                options.quality,
                options.lossless,
            )?)),
        }
    }

    fn add(&mut self, frame: RgbaImage, at_ms: u64, delay_ms: u64) -> Result<(), ProcessError> {
        match self {
            Sink::Gif(encoder) => {
                let delay = Delay::from_numer_denom_ms(delay_ms as u32, 1);
                encoder
                    .encode_frame(Frame::from_parts(frame, 0, 0, delay))
                    .map_err(encode)
            }
            Sink::Webp(encoder) => encoder.add(&frame, at_ms.min(i32::MAX as u64) as i32),
        }
    }

    /// The animation's bytes; `None` for a GIF, whose bytes are in the buffer it was given.
    fn finish(self, end_ms: u64) -> Result<Option<Vec<u8>>, ProcessError> {
        match self {
            Sink::Gif(encoder) => {
                drop(encoder);
                Ok(None)
            }
            Sink::Webp(encoder) => encoder.finish(end_ms.min(i32::MAX as u64) as i32).map(Some),
        }
    }
}

fn encode(e: impl std::fmt::Display) -> ProcessError {
    ProcessError::Encode(e.to_string())
}
