//! Encoding the result: JPEG with libjpeg-turbo, WebP with libwebp, AVIF with rav1e (`ravif`),
//! PNG and GIF with the `image` crate. Metadata is not carried over (stripped, ImageKit's default).

use super::{Budget, ProcessError};
use crate::{Color, Format};
use image::{DynamicImage, ImageFormat, Rgba, RgbaImage};
use std::io::Cursor;
use std::time::Duration;

/// Encoder settings from the transformation.
#[derive(Debug, Clone, Copy)]
pub struct EncodeOptions {
    pub quality: u8,
    pub progressive: bool,
    pub lossless: bool,
    /// Colour under transparent pixels when the format has no alpha.
    pub matte: Color,
}

/// What encoding costs per output pixel, in nanoseconds, as measured on this project's machine
/// kind with both cores busy (so a faster machine refuses a little early rather than overrun).
/// The encoders are not ours and cannot be interrupted: an encode that would not fit in what is
/// left of the budget is refused before it starts.
fn nanos_per_pixel(format: Format) -> u64 {
    match format {
        Format::Jpeg => 15,
        Format::Png => 30,
        Format::Webp => 90,
        Format::Gif => 250,
        Format::Avif => 4_000,
        // Resolved before encoding; counted as WebP if ever seen here.
        Format::Auto | Format::Original => 90,
    }
}

/// Refuses an encode of `width` x `height` into `format` that would outlast the budget.
pub fn check_time(
    format: Format,
    width: u32,
    height: u32,
    budget: &Budget,
) -> Result<(), ProcessError> {
    let nanos = width as u64 * height as u64 * nanos_per_pixel(format);
    if Duration::from_nanos(nanos) > budget.remaining() {
        return Err(ProcessError::TimeBudget {
            stage: "encoding (estimated to outlast what is left of it)",
            limit: budget.limit(),
        });
    }
    Ok(())
}

/// Encodes `image` as `format` (one of JPEG, PNG, WebP, GIF).
pub fn encode(
    image: &DynamicImage,
    format: Format,
    options: EncodeOptions,
) -> Result<Vec<u8>, ProcessError> {
    match format {
        Format::Jpeg => encode_jpeg(image, options),
        Format::Webp => encode_webp(image, options),
        Format::Png => write_with(image, ImageFormat::Png),
        Format::Gif => encode_gif(image),
        Format::Avif => encode_avif(image, options),
        Format::Auto | Format::Original => {
            Err(ProcessError::UnsupportedOutput("unresolved format"))
        }
    }
}

fn encode_jpeg(image: &DynamicImage, options: EncodeOptions) -> Result<Vec<u8>, ProcessError> {
    let rgb = if image.color().has_alpha() {
        flatten(image, options.matte)
    } else {
        image.to_rgb8()
    };
    let mut compressor = turbojpeg::Compressor::new().map_err(encoder)?;
    compressor
        .set_quality(options.quality as i32)
        .map_err(encoder)?;
    compressor
        .set_subsamp(turbojpeg::Subsamp::Sub2x2)
        .map_err(encoder)?;
    compressor
        .set_progressive(options.progressive)
        .map_err(encoder)?;
    compressor.set_optimize(true).map_err(encoder)?;
    let (width, height) = rgb.dimensions();
    let view = turbojpeg::Image {
        pixels: rgb.as_raw().as_slice(),
        width: width as usize,
        pitch: width as usize * 3,
        height: height as usize,
        format: turbojpeg::PixelFormat::RGB,
    };
    compressor.compress_to_vec(view).map_err(encoder)
}

fn encode_webp(image: &DynamicImage, options: EncodeOptions) -> Result<Vec<u8>, ProcessError> {
    let (width, height) = (image.width(), image.height());
    let memory = if image.color().has_alpha() {
        let rgba = image.to_rgba8();
        let encoder = webp::Encoder::from_rgba(rgba.as_raw(), width, height);
        if options.lossless {
            encoder.encode_lossless()
        } else {
            encoder.encode(options.quality as f32)
        }
    } else {
        let rgb = image.to_rgb8();
        let encoder = webp::Encoder::from_rgb(rgb.as_raw(), width, height);
        if options.lossless {
            encoder.encode_lossless()
        } else {
            encoder.encode(options.quality as f32)
        }
    };
    Ok(memory.to_vec())
}

/// AVIF with rav1e at speed 8: several times slower than WebP, so results are cached like any.
fn encode_avif(image: &DynamicImage, options: EncodeOptions) -> Result<Vec<u8>, ProcessError> {
    let rgba = image.to_rgba8();
    let pixels: Vec<ravif::RGBA8> = rgba
        .pixels()
        .map(|p| ravif::RGBA8::new(p[0], p[1], p[2], p[3]))
        .collect();
    let view = ravif::Img::new(
        pixels.as_slice(),
        rgba.width() as usize,
        rgba.height() as usize,
    );
    let quality = ravif_quality(options.quality);
    let encoded = ravif::Encoder::new()
        .with_quality(quality)
        .with_alpha_quality(quality)
        .with_speed(8)
        .encode_rgba(view)
        .map_err(encoder)?;
    Ok(encoded.avif_file)
}

/// Nominal quality (`q-`, as libvips/libaom read it) → rav1e's quality scale. The two encoders
/// spend bits very differently at the same number: measured on the benchmark photos (eight
/// 8–20 MP JPEGs at 800 px), sharp's q40/q60/q80 files matched rav1e's q42/q80/q89 in mean
/// size. Linear between those anchors, so `q-60` costs about what users of libvips-based
/// services expect.
fn ravif_quality(nominal: u8) -> f32 {
    const ANCHORS: [(f32, f32); 5] = [
        (0.0, 0.0),
        (40.0, 42.0),
        (60.0, 80.0),
        (80.0, 89.0),
        (100.0, 100.0),
    ];
    let q = f32::from(nominal.min(100));
    ANCHORS
        .windows(2)
        .find(|pair| q <= pair[1].0)
        .map(|pair| {
            let ((x0, y0), (x1, y1)) = (pair[0], pair[1]);
            y0 + (q - x0) * (y1 - y0) / (x1 - x0)
        })
        .unwrap_or(100.0)
        .max(1.0)
}

/// One GIF frame, its 256 colours chosen by NeuQuant at a middle speed (the `image` crate's
/// default, the slowest, takes seconds on a large photo).
fn encode_gif(image: &DynamicImage) -> Result<Vec<u8>, ProcessError> {
    const QUANTIZE_SPEED: i32 = 10;
    let mut rgba = image.to_rgba8();
    let too_large = || ProcessError::Encode("a GIF is at most 65535 px a side".into());
    let width = u16::try_from(rgba.width()).map_err(|_| too_large())?;
    let height = u16::try_from(rgba.height()).map_err(|_| too_large())?;
    let frame = gif::Frame::from_rgba_speed(width, height, &mut rgba, QUANTIZE_SPEED);
    let mut out = Vec::new();
    {
        let mut writer = gif::Encoder::new(&mut out, width, height, &[]).map_err(encoder)?;
        writer.write_frame(&frame).map_err(encoder)?;
    }
    Ok(out)
}

fn write_with(image: &DynamicImage, format: ImageFormat) -> Result<Vec<u8>, ProcessError> {
    let mut out = Cursor::new(Vec::new());
    image.write_to(&mut out, format).map_err(encoder)?;
    Ok(out.into_inner())
}

/// Composites an image with alpha over a solid colour.
pub fn flatten(image: &DynamicImage, matte: Color) -> image::RgbImage {
    let rgba: RgbaImage = image.to_rgba8();
    let mut out = image::RgbImage::new(rgba.width(), rgba.height());
    for (x, y, Rgba([r, g, b, a])) in rgba.enumerate_pixels() {
        let a = *a as u32;
        let blend = |c: u8, m: u8| ((c as u32 * a + m as u32 * (255 - a) + 127) / 255) as u8;
        out.put_pixel(
            x,
            y,
            image::Rgb([blend(*r, matte.r), blend(*g, matte.g), blend(*b, matte.b)]),
        );
    }
    out
}

fn encoder(e: impl std::fmt::Display) -> ProcessError {
    ProcessError::Encode(e.to_string())
}

#[cfg(test)]
mod tests {
    use super::ravif_quality;

    #[test]
    fn avif_quality_mapping_is_monotonic_and_hits_its_anchors() {
        assert_eq!(ravif_quality(60), 80.0);
        assert_eq!(ravif_quality(80), 89.0);
        assert_eq!(ravif_quality(100), 100.0);
        assert_eq!(ravif_quality(0), 1.0);
        assert_eq!(ravif_quality(50), 61.0);
        for q in 1..=100u8 {
            assert!(ravif_quality(q) >= ravif_quality(q - 1), "at {q}");
        }
    }
}

#[cfg(test)]
mod time_tests {
    use super::*;

    #[test]
    fn an_encode_that_cannot_fit_the_time_left_is_refused_before_it_starts() {
        let budget = Budget::start(Duration::from_secs(2), Default::default());
        // 8192² as AVIF: minutes of rav1e work.
        assert!(matches!(
            check_time(Format::Avif, 8192, 8192, &budget),
            Err(ProcessError::TimeBudget { .. })
        ));
        assert!(check_time(Format::Avif, 300, 200, &budget).is_ok());
        assert!(check_time(Format::Jpeg, 4000, 4000, &budget).is_ok());
    }
}
