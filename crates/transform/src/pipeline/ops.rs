//! One step applied to pixels: the passes before the resize (trim), the resize plan (crop,
//! resize, pad), then the passes after it (rotation, flip, effects, corners, border, opacity),
//! in the order of the parameter table ([`crate::table`]), which names the functions here.

use super::geometry::{self, Plan};
use super::{Budget, ProcessError, rgba_bytes};
use crate::table;
use crate::{Color, Crop, Flip, Focus, Radius, Step};
use fast_image_resize::{FilterType, ResizeAlg, ResizeOptions, Resizer};
use image::{DynamicImage, GenericImageView, Rgba, RgbaImage};

/// Applies `step` to `image`. `max_side` bounds every intermediate canvas: each operation's
/// output is checked, and the ones that grow the canvas (geometry, rotation, border) check
/// before they allocate. `logical` is the size the image stands for when it was decoded smaller
/// (shrink-on-load): geometry is planned on that size, so results do not depend on the decode
/// scale. Every operation is linear in its pixels; `budget` is checked after each and inside
/// the longer loops.
pub fn apply(
    image: DynamicImage,
    step: &Step,
    max_side: u32,
    logical: Option<(u32, u32)>,
    budget: &Budget,
) -> Result<DynamicImage, ProcessError> {
    let limits = table::Limits { max_side, budget };
    let mut image = normalise(image);
    image = run_passes(image, step, &limits, |pass| match pass {
        table::Pass::BeforeResize(run) => Some(*run),
        _ => None,
    })?;
    image = apply_geometry(image, step, max_side, logical, budget)?;
    within(&image, max_side)?;
    budget.check("resize")?;
    run_passes(image, step, &limits, |pass| match pass {
        table::Pass::AfterResize(run) => Some(*run),
        _ => None,
    })
}

/// Runs, in the table's order, the passes `pick` selects of the parameters `step` sets; each
/// result is held to the side limit and the budget checked after it (named by its key).
fn run_passes(
    mut image: DynamicImage,
    step: &Step,
    limits: &table::Limits,
    pick: impl Fn(&table::Pass) -> Option<table::PassFn>,
) -> Result<DynamicImage, ProcessError> {
    for row in table::PARAMS {
        let Some(run) = pick(&row.pass) else {
            continue;
        };
        if (row.print)(step).is_none() {
            continue;
        }
        // Most passes make one new canvas of the image's size; those that grow it or need more
        // check again before they allocate.
        limits
            .budget
            .check_memory(2 * image_bytes(&image), row.key)?;
        image = run(image, step, limits)?;
        within(&image, limits.max_side)?;
        limits.budget.check(row.key)?;
    }
    Ok(image)
}

/// `fl-`: mirrored left-right, top-bottom, or both.
pub(crate) fn flip(image: DynamicImage, flip: Option<Flip>) -> DynamicImage {
    match flip {
        Some(Flip::Horizontal) => image.fliph(),
        Some(Flip::Vertical) => image.flipv(),
        Some(Flip::Both) => image.fliph().flipv(),
        None => image,
    }
}

/// `o-<percent>`: every pixel's alpha scaled to `percent` of what it was.
pub(crate) fn with_opacity(image: DynamicImage, percent: u8) -> DynamicImage {
    if percent >= 100 {
        return image;
    }
    let mut rgba = image.into_rgba8();
    for pixel in rgba.pixels_mut() {
        pixel[3] = ((pixel[3] as u32 * percent as u32 + 50) / 100) as u8;
    }
    DynamicImage::ImageRgba8(rgba)
}

/// Refuses an image with a side over `max_side`.
fn within(image: &DynamicImage, max_side: u32) -> Result<(), ProcessError> {
    fits(image.width(), image.height(), max_side)
}

/// Bytes of `image`'s pixels, counted as RGBA (what any stage may turn it into).
pub(crate) fn image_bytes(image: &DynamicImage) -> u64 {
    rgba_bytes(image.width(), image.height())
}

/// Checks a canvas of `width`x`height` before it is allocated: its sides against `max_side`,
/// and it together with `alive` bytes (the stage's input and copies) against the memory budget.
pub(crate) fn new_canvas(
    (width, height): (u32, u32),
    alive: u64,
    max_side: u32,
    budget: &Budget,
    stage: &'static str,
) -> Result<(), ProcessError> {
    fits(width, height, max_side)?;
    budget.check_memory(alive.saturating_add(rgba_bytes(width, height)), stage)
}

fn fits(width: u32, height: u32, max_side: u32) -> Result<(), ProcessError> {
    if width > max_side || height > max_side {
        return Err(ProcessError::TooLarge {
            width,
            height,
            limit: max_side,
        });
    }
    Ok(())
}

/// Rows processed between two budget checks in the per-pixel loops.
const ROWS_PER_CHECK: u32 = 64;

/// Unsharp mask: `amount` times the difference to a blurred copy is added where that difference
/// is over `threshold` (a fraction of full scale). The blur is the box approximation, so the
/// cost does not grow with `sigma`.
pub(crate) fn unsharp_mask(
    image: DynamicImage,
    sigma: f32,
    amount: f32,
    threshold: f32,
    budget: &Budget,
) -> Result<DynamicImage, ProcessError> {
    let blurred = super::blur::gaussian(image.clone(), sigma, budget)?;
    budget.check("sharpen")?;
    let limit = (threshold.clamp(0.0, 1.0) * 255.0) as i32;
    let mut image = image;
    let width = image.width() as usize;
    let (target, source, channels): (&mut [u8], &[u8], usize) = match (&mut image, &blurred) {
        (DynamicImage::ImageRgb8(a), DynamicImage::ImageRgb8(b)) => (a.as_mut(), b.as_raw(), 3),
        (DynamicImage::ImageRgba8(a), DynamicImage::ImageRgba8(b)) => (a.as_mut(), b.as_raw(), 4),
        _ => return Err(ProcessError::Geometry("unexpected pixel layout".into())),
    };
    let band = (width * channels * ROWS_PER_CHECK as usize).max(1);
    for (rows, soft) in target.chunks_mut(band).zip(source.chunks(band)) {
        sharpen_band(rows, soft, channels, amount, limit);
        budget.check("sharpen")?;
    }
    Ok(image)
}

/// Adds `amount` times the difference to the blurred copy where it exceeds `limit`, colour
/// channels only (the alpha channel keeps its edges).
fn sharpen_band(original: &mut [u8], blurred: &[u8], channels: usize, amount: f32, limit: i32) {
    for (pixel, soft) in original
        .chunks_exact_mut(channels)
        .zip(blurred.chunks_exact(channels))
    {
        for c in 0..3 {
            let difference = pixel[c] as i32 - soft[c] as i32;
            if difference.abs() > limit {
                let value = pixel[c] as f32 + amount * difference as f32;
                pixel[c] = value.round().clamp(0.0, 255.0) as u8;
            }
        }
    }
}

/// 8-bit RGB or RGBA: what every later operation and encoder expects.
fn normalise(image: DynamicImage) -> DynamicImage {
    match image {
        DynamicImage::ImageRgb8(_) | DynamicImage::ImageRgba8(_) => image,
        other if other.color().has_alpha() => DynamicImage::ImageRgba8(other.to_rgba8()),
        other => DynamicImage::ImageRgb8(other.to_rgb8()),
    }
}

fn apply_geometry(
    image: DynamicImage,
    step: &Step,
    max_side: u32,
    logical: Option<(u32, u32)>,
    budget: &Budget,
) -> Result<DynamicImage, ProcessError> {
    let (width, height) = image.dimensions();
    let (lw, lh) = logical.unwrap_or((width, height));
    let mut plan = geometry::plan(step, lw, lh).map_err(|e| ProcessError::Geometry(e.0))?;
    plan.source = plan.source.rescaled((lw, lh), (width, height));
    if step.focus == Some(Focus::Auto)
        && step.crop_mode.is_none()
        && step.crop.unwrap_or(Crop::MaintainRatio) == Crop::MaintainRatio
    {
        plan.source = super::smart_crop::best_window(&image, plan.source);
    }
    let final_size = plan.canvas.map_or(plan.scaled, |(size, _)| size);
    fits(final_size.0, final_size.1, max_side)?;
    // Alive at once: the input, the resized picture, the padded canvas and, for a blurred
    // background, its small blurred copy scaled up (one more canvas).
    let padding = match (plan.canvas, step.blurred_background) {
        (None, _) => 0,
        (Some(((cw, ch), _)), None) => rgba_bytes(cw, ch),
        (Some(((cw, ch), _)), Some(_)) => 2 * rgba_bytes(cw, ch),
    };
    new_canvas(
        plan.scaled,
        image_bytes(&image) + padding,
        max_side,
        budget,
        "resize",
    )?;
    let resized = resize(&image, &plan, budget)?;
    Ok(match plan.canvas {
        None => resized,
        Some(((cw, ch), (x, y))) => {
            let mut canvas = match step.blurred_background {
                Some(blurred) => blurred_canvas(&resized, (cw, ch), blurred)?,
                None => {
                    let background = step.background.unwrap_or(Color::BLACK);
                    let alpha = resized.color().has_alpha() || background.a < 255;
                    solid(cw, ch, background, alpha)
                }
            };
            image::imageops::overlay(&mut canvas, &resized, x as i64, y as i64);
            canvas
        }
    })
}

/// A canvas of `size` made of `picture` scaled to cover it (centred), blurred, with its
/// brightness moved: `bg-blurred`'s padding. The blur hides all detail, so it is made at a
/// fraction of the size (a blur of σ/k at 1/k the size, then scaled up smoothly): the only
/// full-size allocation is the canvas itself, and the blur's cost no longer grows with it.
fn blurred_canvas(
    picture: &DynamicImage,
    (width, height): (u32, u32),
    blurred: crate::BlurredBackground,
) -> Result<DynamicImage, ProcessError> {
    // auto: a blur that hides detail at any size (about 1/40 of the longer side).
    let sigma = match blurred.intensity {
        Some(intensity) => intensity as f32 / 2.0,
        None => (width.max(height) as f32 / 40.0).max(2.0),
    };
    let k = (sigma / 2.0).floor().max(1.0) as u32;
    let (small_w, small_h) = (width.div_ceil(k).max(1), height.div_ceil(k).max(1));
    let (pw, ph) = (picture.width().max(1), picture.height().max(1));
    let scale = (small_w as f64 / pw as f64).max(small_h as f64 / ph as f64);
    let (sw, sh) = (
        ((pw as f64 * scale).ceil() as u32).max(small_w),
        ((ph as f64 * scale).ceil() as u32).max(small_h),
    );
    let covered = scaled(picture, (sw, sh))?.crop_imm(
        (sw - small_w) / 2,
        (sh - small_h) / 2,
        small_w,
        small_h,
    );
    let mut small = covered.fast_blur(sigma / k as f32);
    if blurred.brightness != 0 {
        small = small.brighten(blurred.brightness as i32);
    }
    scaled(&small, (width, height))
}

/// `image` scaled to `size` (bilinear: smooth enough for blurred backgrounds).
fn scaled(image: &DynamicImage, (width, height): (u32, u32)) -> Result<DynamicImage, ProcessError> {
    if image.dimensions() == (width, height) {
        return Ok(image.clone());
    }
    let mut target = DynamicImage::new(width, height, image.color());
    let options = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::Bilinear));
    Resizer::new()
        .resize(image, &mut target, &options)
        .map_err(|e| ProcessError::Geometry(e.to_string()))?;
    Ok(target)
}

/// Crops the plan's source region and scales it (Lanczos3, alpha-aware). A large output is made
/// in bands of rows, the budget checked between them: each band is the same resize of its slice
/// of the source (the filter still reads the rows around the slice), so the result is the
/// whole-image resize to within rounding, and a 49 MP upscale stops within a band's time of its
/// deadline instead of running on.
fn resize(
    image: &DynamicImage,
    plan: &Plan,
    budget: &Budget,
) -> Result<DynamicImage, ProcessError> {
    let source = plan.source;
    let (w, h) = plan.scaled;
    let full =
        source.x == 0 && source.y == 0 && (source.width, source.height) == image.dimensions();
    if full && (w, h) == image.dimensions() {
        return Ok(image.clone());
    }
    if (w, h) == (source.width, source.height) {
        return Ok(image.crop_imm(source.x, source.y, w, h));
    }
    let band_rows = (PIXELS_PER_BAND / w.max(1) as u64)
        .max(16)
        .min(h.max(1) as u64) as u32;
    if band_rows >= h {
        return resize_rows(image, source, (w, h), (0, h));
    }
    let mut target = DynamicImage::new(w, h, image.color());
    for top in (0..h).step_by(band_rows as usize) {
        let rows = (top, (top + band_rows).min(h));
        let band = resize_rows(image, source, (w, h), rows)?;
        image::imageops::replace(&mut target, &band, 0, top as i64);
        budget.check("resize")?;
    }
    Ok(target)
}

/// Output pixels resized between two budget checks.
const PIXELS_PER_BAND: u64 = 1 << 20;

/// Rows `top..bottom` of `source` of `image` resized to `size`.
fn resize_rows(
    image: &DynamicImage,
    source: geometry::Rect,
    (w, h): (u32, u32),
    (top, bottom): (u32, u32),
) -> Result<DynamicImage, ProcessError> {
    let rows_per_output = source.height as f64 / h as f64;
    let end = source.y as f64 + source.height as f64;
    // Where a band starts and ends in the source; the last ends exactly at the region's end
    // (floating point must not push the crop past the image).
    let at = |row: u32| match row {
        row if row >= h => end,
        row => (source.y as f64 + row as f64 * rows_per_output).min(end),
    };
    let mut target = DynamicImage::new(w, bottom - top, image.color());
    let options = ResizeOptions::new()
        .resize_alg(ResizeAlg::Convolution(FilterType::Lanczos3))
        .crop(
            source.x as f64,
            at(top),
            source.width as f64,
            at(bottom) - at(top),
        );
    Resizer::new()
        .resize(image, &mut target, &options)
        .map_err(|e| ProcessError::Geometry(e.to_string()))?;
    Ok(target)
}

fn solid(width: u32, height: u32, color: Color, alpha: bool) -> DynamicImage {
    let pixel = Rgba([color.r, color.g, color.b, color.a]);
    let canvas = RgbaImage::from_pixel(width, height, pixel);
    if alpha {
        DynamicImage::ImageRgba8(canvas)
    } else {
        DynamicImage::ImageRgb8(DynamicImage::ImageRgba8(canvas).to_rgb8())
    }
}

/// Rotates clockwise; right angles exactly, other angles onto a larger canvas filled with
/// `background` (bilinear sampling). The canvas size is checked before it is allocated.
pub(crate) fn rotate(
    image: DynamicImage,
    degrees: u16,
    background: Color,
    max_side: u32,
    budget: &Budget,
) -> Result<DynamicImage, ProcessError> {
    Ok(match degrees % 360 {
        0 => image,
        90 => image.rotate90(),
        180 => image.rotate180(),
        270 => image.rotate270(),
        other => {
            let size = rotated_size(image.width(), image.height(), other as f64);
            new_canvas(size, 2 * image_bytes(&image), max_side, budget, "rt")?;
            rotate_any(&image.to_rgba8(), other as f64, background, budget)?
        }
    })
}

/// The canvas that holds a `width`x`height` image rotated by `degrees`.
fn rotated_size(width: u32, height: u32, degrees: f64) -> (u32, u32) {
    let (w, h) = (width as f64, height as f64);
    let (sin, cos) = degrees.to_radians().sin_cos();
    let out_w = (w * cos.abs() + h * sin.abs()).ceil();
    let out_h = (w * sin.abs() + h * cos.abs()).ceil();
    (
        out_w.min(u32::MAX as f64) as u32,
        out_h.min(u32::MAX as f64) as u32,
    )
}

fn rotate_any(
    source: &RgbaImage,
    degrees: f64,
    background: Color,
    budget: &Budget,
) -> Result<DynamicImage, ProcessError> {
    let (w, h) = (source.width() as f64, source.height() as f64);
    let (sin, cos) = degrees.to_radians().sin_cos();
    let (out_w, out_h) = rotated_size(source.width(), source.height(), degrees);
    let (cx, cy) = (w / 2.0, h / 2.0);
    let (ox, oy) = (out_w as f64 / 2.0, out_h as f64 / 2.0);
    let fill = Rgba([background.r, background.g, background.b, background.a]);
    let mut out = RgbaImage::new(out_w, out_h);
    for (y, row) in out.enumerate_rows_mut() {
        if y % ROWS_PER_CHECK == 0 {
            budget.check("rotate")?;
        }
        for (x, _, pixel) in row {
            let (dx, dy) = (x as f64 + 0.5 - ox, y as f64 + 0.5 - oy);
            // Inverse rotation: where in the source does this output pixel come from?
            let sx = dx * cos + dy * sin + cx - 0.5;
            let sy = -dx * sin + dy * cos + cy - 0.5;
            *pixel = image::imageops::sample_bilinear(
                source,
                (sx + 0.5) as f32 / w as f32,
                (sy + 0.5) as f32 / h as f32,
            )
            .filter(|_| sx >= -0.5 && sy >= -0.5 && sx <= w - 0.5 && sy <= h - 0.5)
            .unwrap_or(fill);
        }
    }
    Ok(DynamicImage::ImageRgba8(out))
}

pub(crate) fn grayscale(image: DynamicImage) -> DynamicImage {
    if image.color().has_alpha() {
        DynamicImage::ImageRgba8(DynamicImage::ImageLumaA8(image.to_luma_alpha8()).to_rgba8())
    } else {
        DynamicImage::ImageRgb8(DynamicImage::ImageLuma8(image.to_luma8()).to_rgb8())
    }
}

/// Stretches each colour channel to the full 0–255 range (ignoring the extreme 0.5%).
pub(crate) fn stretch_contrast(image: DynamicImage) -> DynamicImage {
    let mut rgba = image.to_rgba8();
    let total = (rgba.width() as u64 * rgba.height() as u64).max(1);
    let mut ranges = [(0u8, 255u8); 3];
    for (channel, range) in ranges.iter_mut().enumerate() {
        let mut histogram = [0u64; 256];
        for pixel in rgba.pixels() {
            histogram[pixel[channel] as usize] += 1;
        }
        let cut = total / 200;
        let (mut low, mut high, mut seen) = (0usize, 255usize, 0u64);
        while low < 255 && seen + histogram[low] <= cut {
            seen += histogram[low];
            low += 1;
        }
        seen = 0;
        while high > low && seen + histogram[high] <= cut {
            seen += histogram[high];
            high -= 1;
        }
        *range = (low as u8, high as u8);
    }
    for pixel in rgba.pixels_mut() {
        for (channel, (low, high)) in ranges.iter().enumerate() {
            if high > low {
                let v = pixel[channel].clamp(*low, *high) - low;
                pixel[channel] = ((v as u32 * 255) / (*high - *low) as u32) as u8;
            }
        }
    }
    keep_alpha_kind(image.color().has_alpha(), rgba)
}

fn keep_alpha_kind(alpha: bool, rgba: RgbaImage) -> DynamicImage {
    if alpha {
        DynamicImage::ImageRgba8(rgba)
    } else {
        DynamicImage::ImageRgb8(DynamicImage::ImageRgba8(rgba).to_rgb8())
    }
}

/// Removes a uniform border: pixels within `threshold`% of the top-left pixel's colour.
pub(crate) fn trim(image: DynamicImage, threshold: u8) -> DynamicImage {
    let rgba = image.to_rgba8();
    let reference = *rgba.get_pixel(0, 0);
    let limit = threshold as i32 * 255 / 100;
    let differs = |p: &Rgba<u8>| (0..4).any(|c| (p[c] as i32 - reference[c] as i32).abs() > limit);
    let (w, h) = rgba.dimensions();
    let (mut x0, mut y0, mut x1, mut y1) = (w, h, 0, 0);
    for (x, y, p) in rgba.enumerate_pixels() {
        if differs(p) {
            (x0, y0, x1, y1) = (x0.min(x), y0.min(y), x1.max(x), y1.max(y));
        }
    }
    if x0 > x1 || y0 > y1 {
        return image;
    }
    image.crop_imm(x0, y0, x1 - x0 + 1, y1 - y0 + 1)
}

/// Makes the corners transparent (an ellipse for `max`).
pub(crate) fn round_corners(image: DynamicImage, radius: Radius) -> DynamicImage {
    let mut rgba = image.to_rgba8();
    let (w, h) = (rgba.width() as f64, rgba.height() as f64);
    let inside: Box<dyn Fn(f64, f64) -> bool> = match radius {
        Radius::Max => Box::new(move |x, y| {
            let (dx, dy) = ((x - w / 2.0) / (w / 2.0), (y - h / 2.0) / (h / 2.0));
            dx * dx + dy * dy <= 1.0
        }),
        Radius::Corners([tl, tr, br, bl]) => {
            let limit = w.min(h) / 2.0;
            let r = [tl, tr, br, bl].map(|v| (v as f64).min(limit));
            Box::new(move |x, y| {
                let corner =
                    |cx: f64, cy: f64, r: f64| (x - cx).powi(2) + (y - cy).powi(2) <= r * r;
                if x < r[0] && y < r[0] {
                    corner(r[0], r[0], r[0])
                } else if x > w - r[1] && y < r[1] {
                    corner(w - r[1], r[1], r[1])
                } else if x > w - r[2] && y > h - r[2] {
                    corner(w - r[2], h - r[2], r[2])
                } else if x < r[3] && y > h - r[3] {
                    corner(r[3], h - r[3], r[3])
                } else {
                    true
                }
            })
        }
    };
    for (x, y, pixel) in rgba.enumerate_pixels_mut() {
        if !inside(x as f64 + 0.5, y as f64 + 0.5) {
            pixel[3] = 0;
        }
    }
    DynamicImage::ImageRgba8(rgba)
}

pub(crate) fn add_border(
    image: DynamicImage,
    width: u32,
    color: Color,
    limits: &crate::table::Limits,
) -> Result<DynamicImage, ProcessError> {
    let grown = |side: u32| side.saturating_add(width.saturating_mul(2));
    let (w, h) = (grown(image.width()), grown(image.height()));
    let alive = image_bytes(&image);
    new_canvas((w, h), alive, limits.max_side, limits.budget, "b")?;
    let mut canvas = solid(w, h, color, image.color().has_alpha());
    image::imageops::overlay(&mut canvas, &image, width as i64, width as i64);
    Ok(canvas)
}

#[cfg(test)]
mod resize_tests {
    use super::*;
    use std::time::Duration;

    fn pattern() -> DynamicImage {
        DynamicImage::ImageRgba8(RgbaImage::from_fn(97, 61, |x, y| {
            Rgba([
                (x * 7 % 255) as u8,
                (y * 13 % 255) as u8,
                ((x * y) % 251) as u8,
                255,
            ])
        }))
    }

    fn plan_to(size: (u32, u32)) -> Plan {
        let step = Step {
            width: Some(crate::params::Dimension::Pixels(size.0)),
            height: Some(crate::params::Dimension::Pixels(size.1)),
            crop: Some(Crop::Force),
            ..Default::default()
        };
        geometry::plan(&step, 97, 61).unwrap()
    }

    #[test]
    fn a_resize_made_in_bands_is_the_whole_resize_to_within_rounding() {
        let image = pattern();
        let plan = plan_to((2000, 1000));
        let budget = Budget::start(Duration::from_secs(60), Default::default());
        let banded = resize(&image, &plan, &budget).unwrap().to_rgba8();
        let whole = resize_rows(&image, plan.source, plan.scaled, (0, 1000))
            .unwrap()
            .to_rgba8();
        let worst = banded
            .as_raw()
            .iter()
            .zip(whole.as_raw())
            .map(|(a, b)| (*a as i32 - *b as i32).abs())
            .max()
            .unwrap();
        assert!(worst <= 2, "differs by {worst}");
    }

    #[test]
    fn a_stopped_resize_ends_at_its_next_band() {
        let stop = super::super::Stop::default();
        stop.stop();
        let budget = Budget::start(Duration::from_secs(60), stop);
        let error = resize(&pattern(), &plan_to((4000, 4000)), &budget).unwrap_err();
        assert_eq!(error, ProcessError::Abandoned);
    }
}
