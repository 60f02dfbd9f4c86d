//! Decoding with limits checked from the header first and shrink-on-load for JPEG (libjpeg-turbo
//! scales in the DCT, so a 20 MP photo meant for 800 px is decoded at 1/4 or 1/8 size) and SVG
//! (drawn at the size the first step needs).
//!
//! Each decoder's cost is bounded before it starts, since none of them can be interrupted:
//! progressive JPEGs get a scan limit that shrinks as the image grows, PNG/GIF/WebP decoders may
//! allocate little more than the declared image (an ancillary chunk that inflates to a gigabyte
//! is refused), and an SVG's drawing cost (filled area, filter work) is estimated from its tree
//! and refused when it would not fit the time budget.

use super::{Budget, ProcessError};
use image::{DynamicImage, ImageFormat, ImageReader, Limits, RgbImage};
use std::io::Cursor;

/// What the input is, from its magic bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputKind {
    Jpeg,
    Png,
    Gif,
    Webp,
    /// Rasterised at its intrinsic size; nothing outside the file is ever loaded.
    Svg,
    /// AV1 in HEIF, decoded by libheif + dav1d.
    Avif,
    /// HEVC in HEIF (iPhone photos), decoded by libheif + libde265.
    Heic,
}

/// The input's kind and stored size, from its header only.
pub fn probe(bytes: &[u8]) -> Result<(InputKind, u32, u32), ProcessError> {
    if looks_like_svg(bytes) {
        let (w, h) = svg_size(&svg_tree(bytes)?);
        return checked_size(InputKind::Svg, w, h);
    }
    if let Some(kind) = super::heif::kind_of(bytes) {
        let (w, h) = super::heif::dimensions(bytes)?;
        return checked_size(kind, w, h);
    }
    let kind = match image::guess_format(bytes) {
        Ok(ImageFormat::Jpeg) => InputKind::Jpeg,
        Ok(ImageFormat::Png) => InputKind::Png,
        Ok(ImageFormat::Gif) => InputKind::Gif,
        Ok(ImageFormat::WebP) => InputKind::Webp,
        Ok(other) => return Err(ProcessError::UnsupportedInput(format!("{other:?}"))),
        Err(_) => return Err(ProcessError::UnsupportedInput("not an image".into())),
    };
    let (w, h) = match kind {
        InputKind::Jpeg => {
            let header = turbojpeg::read_header(bytes).map_err(corrupt)?;
            (header.width as u32, header.height as u32)
        }
        _ => {
            // Reading a header parses the chunks before the pixels (an ICC profile among
            // them): the same allowance as decoding, so no chunk inflates past it here either.
            let mut reader = reader(bytes, kind)?;
            let mut limits = Limits::default();
            limits.max_alloc = Some(ANCILLARY_ALLOWANCE);
            reader.limits(limits);
            reader.into_dimensions().map_err(corrupt)?
        }
    };
    checked_size(kind, w, h)
}

fn checked_size(kind: InputKind, w: u32, h: u32) -> Result<(InputKind, u32, u32), ProcessError> {
    if w == 0 || h == 0 {
        return Err(ProcessError::Corrupt("zero width or height".into()));
    }
    Ok((kind, w, h))
}

/// A decoded image, and what the decoder recovered from: a file cut short (or missing its end
/// marker) is drawn as far as it goes and the rest filled (grey for JPEG, as libjpeg does;
/// transparent or black for PNG), as browsers and libvips draw it.
pub struct Decoded {
    pub image: DynamicImage,
    pub warning: Option<String>,
}

impl Decoded {
    fn sound(image: DynamicImage) -> Self {
        Self {
            image,
            warning: None,
        }
    }
}

/// Decodes `bytes`, refusing more than `max_pixels`, at the smallest scale that still gives at
/// least `min_scale` of the stored size (JPEG and SVG).
pub fn decode(bytes: &[u8], max_pixels: u64, min_scale: f64) -> Result<Decoded, ProcessError> {
    let budget = Budget::start(std::time::Duration::from_secs(3600), Default::default());
    decode_within(bytes, probe(bytes)?, max_pixels, min_scale, &budget)
}

/// [`decode`] for a caller that has already probed `bytes` (kind, stored width and height),
/// with the work bounded by `budget`.
pub fn decode_within(
    bytes: &[u8],
    (kind, w, h): (InputKind, u32, u32),
    max_pixels: u64,
    min_scale: f64,
    budget: &Budget,
) -> Result<Decoded, ProcessError> {
    let pixels = w as u64 * h as u64;
    if pixels > max_pixels {
        return Err(ProcessError::TooManyPixels {
            width: w,
            height: h,
            limit: max_pixels,
        });
    }
    Ok(match kind {
        InputKind::Jpeg => decode_jpeg(bytes, min_scale, pixels)?,
        InputKind::Svg => Decoded::sound(rasterise_svg(bytes, (w, h), min_scale, budget)?),
        InputKind::Avif | InputKind::Heic => Decoded::sound(super::heif::decode(bytes)?),
        InputKind::Png | InputKind::Gif | InputKind::Webp => {
            let mut reader = reader(bytes, kind)?;
            // The decoded image (16-bit RGBA at most) plus room for what a decoder keeps
            // besides: ancillary chunks (an ICC profile, text) cannot inflate past this.
            let max_alloc = pixels.saturating_mul(8).saturating_add(ANCILLARY_ALLOWANCE);
            let mut limits = Limits::default();
            limits.max_alloc = Some(max_alloc);
            reader.limits(limits);
            match reader.decode() {
                Ok(image) => Decoded::sound(image),
                Err(image::ImageError::Limits(e)) => {
                    return Err(ProcessError::Corrupt(format!(
                        "decoding needs more memory than a {w}x{h} image should ({e})"
                    )));
                }
                Err(e) if kind == InputKind::Png && is_truncation(&e) => {
                    truncated_png(bytes, max_alloc).ok_or_else(|| corrupt(e))?
                }
                Err(e) if kind == InputKind::Gif && is_truncation(&e) => {
                    truncated_gif(bytes, max_alloc).ok_or_else(|| corrupt(e))?
                }
                Err(e) => return Err(corrupt(e)),
            }
        }
    })
}

/// The image crate's way of saying the data ended early.
fn is_truncation(error: &image::ImageError) -> bool {
    let text = error.to_string().to_ascii_lowercase();
    text.contains("eof") || text.contains("end of file") || text.contains("unexpected end")
}

/// A PNG cut short, drawn as far as its rows go: the png decoder writes each row into the
/// frame as it decodes it, so what it wrote before the data ran out stands and the rest keeps
/// the buffer's zeros (transparent, or black without alpha), as libvips leaves it. Expanded to
/// 8-bit gray or RGB with or without alpha. `None` when not even the header is there.
fn truncated_png(bytes: &[u8], max_alloc: u64) -> Option<Decoded> {
    let mut decoder = png::Decoder::new_with_limits(
        Cursor::new(bytes),
        png::Limits {
            bytes: usize::try_from(max_alloc).unwrap_or(usize::MAX),
        },
    );
    decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    let mut reader = decoder.read_info().ok()?;
    let mut frame = vec![0u8; reader.output_buffer_size()?];
    let error = reader.next_frame(&mut frame).err()?;
    let (width, height) = (reader.info().width, reader.info().height);
    let image = match reader.output_color_type().0 {
        png::ColorType::Grayscale => {
            DynamicImage::ImageLuma8(image::GrayImage::from_raw(width, height, frame)?)
        }
        png::ColorType::GrayscaleAlpha => {
            DynamicImage::ImageLumaA8(image::GrayAlphaImage::from_raw(width, height, frame)?)
        }
        png::ColorType::Rgb => DynamicImage::ImageRgb8(RgbImage::from_raw(width, height, frame)?),
        png::ColorType::Rgba => {
            DynamicImage::ImageRgba8(image::RgbaImage::from_raw(width, height, frame)?)
        }
        png::ColorType::Indexed => return None,
    };
    Some(Decoded {
        image,
        warning: Some(format!(
            "PNG data ends early ({error}); the rest is left empty"
        )),
    })
}

/// Memory a PNG/GIF/WebP decoder may use beyond the image itself.
const ANCILLARY_ALLOWANCE: u64 = 16 << 20;

/// Progressive JPEG scans allowed for an image of `pixels`: each scan is a pass over the whole
/// image, so the product is bounded (a few seconds of decoding at most). Real encoders write
/// about 10 scans; libjpeg-turbo's own suggestion is a limit of 500.
pub fn jpeg_scan_limit(pixels: u64) -> u32 {
    const SCAN_PIXELS: u64 = 2_000_000_000;
    (SCAN_PIXELS / pixels.max(1)).clamp(32, 500) as u32
}

fn reader(bytes: &[u8], kind: InputKind) -> Result<ImageReader<Cursor<&[u8]>>, ProcessError> {
    let format = match kind {
        InputKind::Png => ImageFormat::Png,
        InputKind::Gif => ImageFormat::Gif,
        InputKind::Webp => ImageFormat::WebP,
        InputKind::Jpeg | InputKind::Svg | InputKind::Avif | InputKind::Heic => ImageFormat::Jpeg,
    };
    Ok(ImageReader::with_format(Cursor::new(bytes), format))
}

/// A GIF whose first frame is cut short, drawn as far as its rows go (the gif decoder writes
/// each row as it decodes it; the rest stays transparent), placed on the logical screen as the
/// first frame of a still GIF is. `None` when not even the frame's header is there.
fn truncated_gif(bytes: &[u8], max_alloc: u64) -> Option<Decoded> {
    let mut options = gif::DecodeOptions::new();
    options.set_color_output(gif::ColorOutput::RGBA);
    options.set_memory_limit(gif::MemoryLimit::Bytes(std::num::NonZeroU64::new(
        max_alloc.max(1),
    )?));
    let mut decoder = options.read_info(Cursor::new(bytes)).ok()?;
    let (screen_w, screen_h) = (decoder.width() as u32, decoder.height() as u32);
    let frame = decoder.next_frame_info().ok()??;
    let (left, top) = (frame.left as u32, frame.top as u32);
    let (width, height) = (frame.width as u32, frame.height as u32);
    // The frame's own size is the file's word: held to the same allowance as the screen.
    let frame_bytes = width as u64 * height as u64 * 4;
    let screen_bytes = screen_w as u64 * screen_h as u64 * 4;
    if frame_bytes.max(screen_bytes) > max_alloc {
        return None;
    }
    let mut pixels = vec![0u8; decoder.buffer_size()];
    let error = decoder.read_into_buffer(&mut pixels).err()?;
    let drawn = image::RgbaImage::from_raw(width, height, pixels)?;
    let mut screen = image::RgbaImage::new(screen_w.max(1), screen_h.max(1));
    image::imageops::overlay(&mut screen, &drawn, left.into(), top.into());
    Some(Decoded {
        image: DynamicImage::ImageRgba8(screen),
        warning: Some(format!(
            "GIF data ends early ({error}); the rest is left empty"
        )),
    })
}

/// libjpeg's warnings (`JWRN_*` in its `jerror.h`): recoverable, the image is decoded to its
/// end all the same (what is missing comes out grey). Anything else is an error.
const JPEG_WARNINGS: &[&str] = &[
    "Premature end of JPEG file",
    "Corrupt JPEG data",
    "Invalid SOS parameters for sequential JPEG",
    "Inconsistent progression sequence",
    "Unknown Adobe color transform code",
    "unknown JFIF revision number",
    "Application transferred too many scanlines",
];

fn decode_jpeg(bytes: &[u8], min_scale: f64, pixels: u64) -> Result<Decoded, ProcessError> {
    let mut decompressor = turbojpeg::Decompressor::new().map_err(corrupt)?;
    let scan_limit = jpeg_scan_limit(pixels);
    decompressor.set_scan_limit(scan_limit).map_err(corrupt)?;
    let header = decompressor.read_header(bytes).map_err(corrupt)?;
    let factor = turbojpeg::Decompressor::supported_scaling_factors()
        .into_iter()
        .filter(|f| f.num() <= f.denom() && f.num() as f64 / f.denom() as f64 >= min_scale)
        .min_by(|a, b| {
            let (fa, fb) = (
                a.num() as f64 / a.denom() as f64,
                b.num() as f64 / b.denom() as f64,
            );
            fa.total_cmp(&fb)
        })
        .unwrap_or(turbojpeg::ScalingFactor::ONE);
    decompressor.set_scaling_factor(factor).map_err(corrupt)?;
    let scaled = header.scaled(factor);
    let pitch = scaled.width * 3;
    let mut pixels = vec![0u8; pitch * scaled.height];
    let output = turbojpeg::Image {
        pixels: pixels.as_mut_slice(),
        width: scaled.width,
        pitch,
        height: scaled.height,
        format: turbojpeg::PixelFormat::RGB,
    };
    // TurboJPEG finishes the image on a warning and reports it as a failure afterwards.
    let warning = match decompressor.decompress(bytes, output) {
        Ok(()) => None,
        Err(turbojpeg::Error::TurboJpegError(message))
            if JPEG_WARNINGS.iter().any(|w| message.contains(w)) =>
        {
            Some(format!("JPEG: {message}; decoded what is there"))
        }
        // libjpeg-turbo: "Progressive JPEG image has more than N scans".
        Err(e) if e.to_string().contains("scans") => {
            return Err(ProcessError::TooManyScans { limit: scan_limit });
        }
        Err(e) => return Err(corrupt(e)),
    };
    let rgb = RgbImage::from_raw(scaled.width as u32, scaled.height as u32, pixels)
        .ok_or_else(|| ProcessError::Corrupt("decoded size mismatch".into()))?;
    Ok(Decoded {
        image: DynamicImage::ImageRgb8(rgb),
        warning,
    })
}

/// The EXIF orientation (1–8) of a JPEG, 1 when absent.
pub fn exif_orientation(bytes: &[u8]) -> u8 {
    let Ok(exif) = exif::Reader::new().read_from_container(&mut Cursor::new(bytes)) else {
        return 1;
    };
    exif.get_field(exif::Tag::Orientation, exif::In::PRIMARY)
        .and_then(|f| f.value.get_uint(0))
        .filter(|v| (1..=8).contains(v))
        .map_or(1, |v| v as u8)
}

fn corrupt(e: impl std::fmt::Display) -> ProcessError {
    ProcessError::Corrupt(e.to_string())
}

fn looks_like_svg(bytes: &[u8]) -> bool {
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(1024)]);
    let head = head.trim_start_matches('\u{feff}').trim_start();
    (head.starts_with("<?xml")
        || head.starts_with("<svg")
        || head.starts_with("<!--")
        || head.starts_with("<!DOCTYPE"))
        && head.contains("<svg")
}

/// Parses an SVG with every external reference refused: no files, no URLs, no embedded images.
fn svg_tree(bytes: &[u8]) -> Result<resvg::usvg::Tree, ProcessError> {
    let options = resvg::usvg::Options {
        resources_dir: None,
        image_href_resolver: resvg::usvg::ImageHrefResolver {
            resolve_data: Box::new(|_, _, _| None),
            resolve_string: Box::new(|_, _| None),
        },
        ..Default::default()
    };
    resvg::usvg::Tree::from_data(bytes, &options).map_err(corrupt)
}

/// An SVG's intrinsic size in whole pixels, rounded up (a 99999.6-wide SVG needs 100000).
fn svg_size(tree: &resvg::usvg::Tree) -> (u32, u32) {
    let size = tree.size();
    let side = |v: f32| v.ceil().clamp(0.0, u32::MAX as f32) as u32;
    (side(size.width()), side(size.height()))
}

/// Draws the SVG at `scale` (≤ 1) of its intrinsic `size`, after checking the drawing cost.
fn rasterise_svg(
    bytes: &[u8],
    (width, height): (u32, u32),
    scale: f64,
    budget: &Budget,
) -> Result<DynamicImage, ProcessError> {
    let tree = svg_tree(bytes)?;
    let scale = scale.clamp(f64::MIN_POSITIVE, 1.0);
    let side = |v: u32| ((v as f64 * scale).ceil() as u32).max(1);
    let (w, h) = (side(width), side(height));
    super::svg_cost::check(&tree, (w, h), budget.limit())?;
    let mut pixmap = resvg::tiny_skia::Pixmap::new(w, h)
        .ok_or_else(|| ProcessError::Corrupt("SVG has no drawable size".into()))?;
    let transform =
        resvg::tiny_skia::Transform::from_scale(w as f32 / width as f32, h as f32 / height as f32);
    resvg::render(&tree, transform, &mut pixmap.as_mut());
    // Demultiply in place: the pixel buffer becomes the image without a second copy.
    let mut pixels = pixmap.take();
    for pixel in pixels.chunks_exact_mut(4) {
        let alpha = pixel[3] as u32;
        if alpha != 0 && alpha != 255 {
            for channel in &mut pixel[..3] {
                *channel = ((*channel as u32 * 255 + alpha / 2) / alpha).min(255) as u8;
            }
        }
    }
    image::RgbaImage::from_raw(w, h, pixels)
        .map(DynamicImage::ImageRgba8)
        .ok_or_else(|| ProcessError::Corrupt("SVG raster size mismatch".into()))
}
