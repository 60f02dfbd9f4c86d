//! The image pipeline: decode (JPEG, PNG, GIF, WebP, SVG, AVIF, HEIC; limits from the header,
//! shrink-on-load) → EXIF orientation →
//! each step's operations → encode in the negotiated format. CPU only; callers run it off the
//! async runtime.

mod animated_webp;
mod animation;
#[cfg(test)]
mod animation_tests;
pub(crate) mod blur;
mod color_profile;
mod decode;
#[cfg(test)]
mod effect_tests;
pub(crate) mod effects;
mod encode;
mod frames;
pub mod geometry;
mod glyph_raster;
mod heif;
#[cfg(test)]
mod layer_tests;
mod layers;
mod metadata;
pub(crate) mod ops;
mod smart_crop;
mod svg_cost;
#[cfg(test)]
mod tests;
mod text;

pub use decode::{InputKind, probe};
pub use layers::LayerFiles;

use crate::{Color, CropMode, Format, Transformation};
use image::DynamicImage;
use std::time::{Duration, Instant};

/// Limits from the server's configuration.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Inputs with more pixels are refused before decoding.
    pub max_input_pixels: u64,
    /// No output (or intermediate canvas) side may exceed this.
    pub max_output_side: u32,
    /// Animated inputs (GIF, WebP) with more frames are refused before decoding.
    pub max_frames: u32,
    /// Wall time one transformation may take; checked between stages.
    pub time_budget: Duration,
    /// Bytes of pixels one transformation may have alive at once; estimated before each canvas
    /// is allocated (`limits.transform_memory`).
    pub max_memory: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_input_pixels: 100_000_000,
            max_output_side: 8192,
            max_frames: 1000,
            time_budget: Duration::from_secs(20),
            max_memory: DEFAULT_MAX_MEMORY,
        }
    }
}

/// `limits.transform_memory`'s default: a full-size 100-megapixel input (the default pixel
/// limit, 400 MB as RGBA) with one more canvas of its size.
pub const DEFAULT_MAX_MEMORY: u64 = 1 << 30;

/// What the client accepts and the account allows, for `f-auto` and "use best format".
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct FormatChoice {
    pub accepts_webp: bool,
    pub accepts_avif: bool,
    /// The account's "use best format" setting (on by default).
    pub best_format: bool,
    /// AVIF allowed for automatic choices (off by default).
    pub auto_avif: bool,
}

/// A processed image.
#[derive(Debug)]
pub struct Output {
    pub bytes: Vec<u8>,
    pub format: Format,
    pub width: u32,
    pub height: u32,
    /// What the decoders recovered from (a truncated input drawn as far as it goes, the rest
    /// filled), for the answer's `x-pixelway-warning` and the log. Empty for a sound input.
    pub warnings: Vec<String>,
}

/// Why an image could not be processed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ProcessError {
    #[error("input is not a supported image: {0}")]
    UnsupportedInput(String),
    #[error("input image is corrupt or truncated: {0}")]
    Corrupt(String),
    #[error("input is {width}x{height}, more than the limit of {limit} pixels")]
    TooManyPixels { width: u32, height: u32, limit: u64 },
    #[error("output would be {width}x{height}, larger than the limit of {limit} pixels per side")]
    TooLarge { width: u32, height: u32, limit: u32 },
    #[error("input has more than {limit} frames (limits.max_frames)")]
    TooManyFrames { limit: u32 },
    #[error(
        "transformation exceeded its time budget of {} ms (limits.transform_time_budget) at {stage}",
        limit.as_millis()
    )]
    TimeBudget {
        stage: &'static str,
        limit: Duration,
    },
    #[error("{0}")]
    Geometry(String),
    #[error("output format {0} is not available in this build")]
    UnsupportedOutput(&'static str),
    #[error("encoding failed: {0}")]
    Encode(String),
    #[error("progressive JPEG has more than {limit} scans for its size")]
    TooManyScans { limit: u32 },
    #[error(
        "drawing this SVG would take about {estimated} million pixel operations, more than the {limit} million its time budget allows (limits.transform_time_budget)"
    )]
    TooCostly { estimated: u64, limit: u64 },
    #[error("the transformation was abandoned: no request waits for it any more")]
    Abandoned,
    #[error("layer input {path:?}: {reason}")]
    LayerInput { path: String, reason: String },
    #[error(
        "transformation would need about {} MiB at {stage}, more than its memory budget of {} MiB (limits.transform_memory)",
        needed.div_ceil(1 << 20),
        limit >> 20
    )]
    TooMuchMemory {
        stage: &'static str,
        needed: u64,
        limit: u64,
    },
}

/// Bytes of an RGBA canvas of `width` x `height` (what every stage's pixels cost at most).
pub(crate) fn rgba_bytes(width: u32, height: u32) -> u64 {
    width as u64 * height as u64 * 4
}

/// The time and memory budget of one transformation and a flag to stop it early. Time is
/// checked between stages and inside the long loops of the operations that are ours (rotation,
/// corners, contrast, trim, sharpening, text); the stages that are not ours are bounded up front
/// instead (JPEG scan count, SVG drawing cost, pixel limits), so no stage runs far past the
/// budget. Memory is estimated before each canvas is allocated: what the stage needs at once
/// (its input and its output) plus what the transformation holds for its whole run (layers
/// drawn once for every frame of an animation), refused past the limit.
#[derive(Debug, Clone)]
pub struct Budget {
    started: Instant,
    limit: Duration,
    stop: Stop,
    memory_limit: u64,
    /// Bytes held by stages still running or for the whole transformation (shared by clones).
    held: std::sync::Arc<std::sync::atomic::AtomicU64>,
    /// The most bytes any check saw needed at once (shared by clones).
    peak: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

/// Set by the caller when nobody waits for the result any more: the work ends at its next
/// check with [`ProcessError::Abandoned`].
#[derive(Debug, Clone, Default)]
pub struct Stop(std::sync::Arc<std::sync::atomic::AtomicBool>);

impl Stop {
    /// Asks the work to stop at its next check.
    pub fn stop(&self) {
        self.0.store(true, std::sync::atomic::Ordering::Relaxed);
    }

    /// Whether [`Stop::stop`] was called.
    pub fn is_stopped(&self) -> bool {
        self.0.load(std::sync::atomic::Ordering::Relaxed)
    }
}

impl Budget {
    /// A budget of `limit` from now, stopped early through `stop`.
    pub fn start(limit: Duration, stop: Stop) -> Self {
        Self {
            started: Instant::now(),
            limit,
            stop,
            memory_limit: u64::MAX,
            held: Default::default(),
            peak: Default::default(),
        }
    }

    /// This budget with at most `bytes` of pixels alive at once (`limits.transform_memory`).
    pub fn with_memory_limit(mut self, bytes: u64) -> Self {
        self.memory_limit = bytes;
        self
    }

    /// Fails when a stage that needs `bytes` at once (its input and output), on top of what the
    /// transformation holds, would pass the memory budget; `stage` names it.
    pub fn check_memory(&self, bytes: u64, stage: &'static str) -> Result<(), ProcessError> {
        use std::sync::atomic::Ordering::Relaxed;
        let needed = self.held.load(Relaxed).saturating_add(bytes);
        self.peak.fetch_max(needed, Relaxed);
        if needed > self.memory_limit {
            return Err(ProcessError::TooMuchMemory {
                stage,
                needed,
                limit: self.memory_limit,
            });
        }
        Ok(())
    }

    /// Counts `bytes` as held (a canvas that stays alive while later stages run) until
    /// [`Budget::release_memory`], refused past the budget.
    pub fn hold_memory(&self, bytes: u64, stage: &'static str) -> Result<(), ProcessError> {
        self.check_memory(bytes, stage)?;
        self.held
            .fetch_add(bytes, std::sync::atomic::Ordering::Relaxed);
        Ok(())
    }

    /// Gives back what [`Budget::hold_memory`] counted.
    pub fn release_memory(&self, bytes: u64) {
        let _ = self.held.fetch_update(
            std::sync::atomic::Ordering::Relaxed,
            std::sync::atomic::Ordering::Relaxed,
            |held| Some(held.saturating_sub(bytes)),
        );
    }

    /// The most bytes of pixels the transformation needed at once, as estimated.
    pub fn peak_memory(&self) -> u64 {
        self.peak.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The most bytes of pixels the transformation may have alive at once.
    pub fn memory_limit(&self) -> u64 {
        self.memory_limit
    }

    /// Fails when the budget is spent or the work was stopped; `stage` names where.
    pub fn check(&self, stage: &'static str) -> Result<(), ProcessError> {
        if self.stop.is_stopped() {
            return Err(ProcessError::Abandoned);
        }
        if self.started.elapsed() > self.limit {
            return Err(ProcessError::TimeBudget {
                stage,
                limit: self.limit,
            });
        }
        Ok(())
    }

    /// The whole budget, for costs estimated up front.
    pub fn limit(&self) -> Duration {
        self.limit
    }

    /// What is left of the time budget.
    pub fn remaining(&self) -> Duration {
        self.limit.saturating_sub(self.started.elapsed())
    }

    /// The flag that stops this work early.
    pub fn stop_handle(&self) -> Stop {
        self.stop.clone()
    }
}

/// Decodes any supported input to RGBA at full size (for inspection and tests).
pub fn decode_rgba(bytes: &[u8], max_input_pixels: u64) -> Result<image::RgbaImage, ProcessError> {
    Ok(decode::decode(bytes, max_input_pixels, 1.0)?
        .image
        .to_rgba8())
}

/// Runs `transformation` on the image in `bytes`.
pub fn process(
    bytes: &[u8],
    transformation: &Transformation,
    choice: FormatChoice,
    limits: Limits,
) -> Result<Output, ProcessError> {
    let budget =
        Budget::start(limits.time_budget, Stop::default()).with_memory_limit(limits.max_memory);
    process_within(bytes, transformation, choice, limits, &budget)
}

/// [`process`] under a caller's [`Budget`] (whose [`Stop`] the caller may set).
pub fn process_within(
    bytes: &[u8],
    transformation: &Transformation,
    choice: FormatChoice,
    limits: Limits,
    budget: &Budget,
) -> Result<Output, ProcessError> {
    process_layered(
        bytes,
        transformation,
        &LayerFiles::new(),
        choice,
        limits,
        budget,
    )
}

/// [`process_within`] with the files the transformation's layers read
/// ([`Transformation::layer_inputs`]).
pub fn process_layered(
    bytes: &[u8],
    transformation: &Transformation,
    layer_files: &LayerFiles,
    choice: FormatChoice,
    limits: Limits,
    budget: &Budget,
) -> Result<Output, ProcessError> {
    let context = layers::Context::new(layer_files, limits, budget);
    if let Some(output) = animated(bytes, transformation, choice, &context)? {
        return Ok(output);
    }
    let mut output = render_and_encode(bytes, transformation, choice, &context)?;
    output.warnings = context.warnings();
    Ok(output)
}

/// A still output: the input rendered through every step, then encoded.
fn render_and_encode(
    bytes: &[u8],
    transformation: &Transformation,
    choice: FormatChoice,
    context: &layers::Context,
) -> Result<Output, ProcessError> {
    let budget = context.budget;
    let (image, kind) = render(bytes, &transformation.steps, None, context)?;
    let has_alpha = image.color().has_alpha() && !fully_opaque(&image);
    let format = output_format(transformation.format(), kind, has_alpha, choice)?;
    let last = transformation.steps.last();
    let options = encode::EncodeOptions {
        quality: transformation
            .steps
            .iter()
            .rev()
            .find_map(|s| s.quality)
            .unwrap_or(80),
        progressive: transformation
            .steps
            .iter()
            .rev()
            .find_map(|s| s.progressive)
            .unwrap_or(false),
        lossless: transformation
            .steps
            .iter()
            .rev()
            .find_map(|s| s.lossless)
            .unwrap_or(false),
        matte: last.and_then(|s| s.background).unwrap_or(Color {
            r: 255,
            g: 255,
            b: 255,
            a: 255,
        }),
    };
    let input = bytes;
    encode::check_time(format, image.width(), image.height(), budget)?;
    let mut bytes = encode::encode(&image, format, options)?;
    let keep_metadata = transformation
        .steps
        .iter()
        .rev()
        .find_map(|s| s.metadata)
        .unwrap_or(false);
    if keep_metadata && let Some(exif) = metadata::exif_of(input, kind) {
        bytes = metadata::with_exif(bytes, format, &exif);
    }
    Ok(Output {
        bytes,
        format,
        width: image.width(),
        height: image.height(),
        warnings: Vec::new(),
    })
}

/// The output when `bytes` is an animation that stays one (`None` otherwise: a still input, a
/// still output format, or `pg-` picking one frame).
fn animated(
    bytes: &[u8],
    transformation: &Transformation,
    choice: FormatChoice,
    context: &layers::Context,
) -> Result<Option<Output>, ProcessError> {
    let (kind, width, height) = probe(bytes)?;
    if !matches!(kind, InputKind::Gif | InputKind::Webp) || transformation.page().is_some() {
        return Ok(None);
    }
    let Some(format) = animation::animated_output(transformation.format(), kind, choice) else {
        return Ok(None);
    };
    if frames::check(kind, bytes, context.limits)? < 2 {
        return Ok(None);
    }
    let steps = &transformation.steps;
    context.keep_layers_for_every_frame();
    let options = animation::AnimationOptions {
        format,
        quality: steps.iter().rev().find_map(|s| s.quality).unwrap_or(80),
        lossless: steps.iter().rev().find_map(|s| s.lossless).unwrap_or(false),
    };
    animation::process(bytes, kind, (width, height), steps, options, context).map(Some)
}

/// Decodes `bytes` (limits from its header, EXIF orientation, ICC profile to sRGB,
/// shrink-on-load for the first step) and runs `steps` on it. `base` is the parent's size when
/// this is a layer's file (for `bw`/`bh` in its expressions).
fn render(
    bytes: &[u8],
    steps: &[crate::Step],
    base: Option<(u32, u32)>,
    context: &layers::Context,
) -> Result<(DynamicImage, InputKind), ProcessError> {
    let (limits, budget) = (context.limits, context.budget);
    let probed = probe(bytes)?;
    let (kind, stored_w, stored_h) = probed;
    frames::check(kind, bytes, limits)?;
    let orientation = if kind == InputKind::Jpeg {
        decode::exif_orientation(bytes)
    } else {
        1
    };
    let swaps_axes = orientation >= 5;
    let (w, h) = if swaps_axes {
        (stored_h, stored_w)
    } else {
        (stored_w, stored_h)
    };
    // Expressions in sizes (`w-iw_div_2`) become pixels as each step is reached: the first
    // now (shrink-on-load plans with it), the others on the size the steps before left.
    let resolve = |step: &crate::Step, current: (u32, u32)| {
        let sizes = crate::expr::Sizes {
            initial: (w, h),
            current,
            base,
        };
        step.with_sizes_resolved(sizes)
            .map_err(ProcessError::Geometry)
    };
    let first = match steps.first() {
        Some(step) => Some(resolve(step, (w, h))?),
        None => None,
    };
    let min_scale = shrink_on_load_scale(first.as_ref(), w, h);
    let decoded_side = |side: u32| (side as f64 * min_scale).ceil() as u32;
    budget.check_memory(
        rgba_bytes(decoded_side(w), decoded_side(h)),
        "decoding the input",
    )?;
    let page = steps.iter().rev().find_map(|s| s.page);
    let mut decoded = match page {
        Some(n) if matches!(kind, InputKind::Gif | InputKind::Webp) => {
            animation::nth_frame(bytes, kind, n)?
        }
        Some(n) if n > 1 => {
            return Err(ProcessError::Geometry(format!(
                "pg-{n}: the image has 1 frame"
            )));
        }
        _ => {
            let decoded =
                decode::decode_within(bytes, probed, limits.max_input_pixels, min_scale, budget)?;
            if let Some(warning) = decoded.warning {
                context.warn(warning);
            }
            decoded.image
        }
    };
    budget.check("decode")?;
    if let Some(profile) = color_profile::embedded(bytes, kind) {
        decoded = color_profile::to_srgb(decoded, &profile);
        budget.check("colour conversion")?;
    }
    let image = apply_orientation(decoded, orientation);
    Ok((run_steps(image, steps, (w, h), base, context)?, kind))
}

/// Runs `steps` on a decoded `image` whose input was `initial` large, each step's expressions
/// resolved on the size the steps before it left.
fn run_steps(
    mut image: DynamicImage,
    steps: &[crate::Step],
    initial: (u32, u32),
    base: Option<(u32, u32)>,
    context: &layers::Context,
) -> Result<DynamicImage, ProcessError> {
    for (i, step) in steps.iter().enumerate() {
        let sizes = crate::expr::Sizes {
            initial,
            current: if i == 0 {
                initial
            } else {
                (image.width(), image.height())
            },
            base,
        };
        let step = step
            .with_sizes_resolved(sizes)
            .map_err(ProcessError::Geometry)?;
        let logical = (i == 0).then_some(initial);
        image = apply_step(image, &step, logical, context)?;
        context.budget.check("a transformation step")?;
    }
    Ok(image)
}

/// One step (sizes already in pixels): its operations, then its layers.
fn apply_step(
    image: DynamicImage,
    step: &crate::Step,
    logical: Option<(u32, u32)>,
    context: &layers::Context,
) -> Result<DynamicImage, ProcessError> {
    let image = ops::apply(
        image,
        step,
        context.limits.max_output_side,
        logical,
        context.budget,
    )?;
    layers::draw_all(image, &step.layers, context)
}

/// The output format: explicit `f-` wins; `f-auto` or "best format" choose from `Accept`;
/// otherwise the input's own format. Transparent images never become JPEG automatically.
pub fn output_format(
    requested: Option<Format>,
    input: InputKind,
    has_alpha: bool,
    choice: FormatChoice,
) -> Result<Format, ProcessError> {
    let own = match input {
        InputKind::Jpeg => Format::Jpeg,
        InputKind::Png => Format::Png,
        InputKind::Gif => Format::Gif,
        InputKind::Webp => Format::Webp,
        // A vector input is rasterised only because a transformation asked for pixels.
        InputKind::Svg => Format::Png,
        InputKind::Avif => Format::Avif,
        // Browsers do not show HEIC: its own format on the web is JPEG (PNG when transparent).
        InputKind::Heic if has_alpha => Format::Png,
        InputKind::Heic => Format::Jpeg,
    };
    match requested {
        Some(Format::Original) => Ok(own),
        Some(Format::Auto) => Ok(negotiate(own, has_alpha, choice)),
        Some(explicit) => Ok(explicit),
        None if choice.best_format => Ok(negotiate(own, has_alpha, choice)),
        None => Ok(own),
    }
}

impl FormatChoice {
    /// This choice with everything that cannot change the output for `requested` cleared, so
    /// requests that must get the same result share one cache entry.
    pub fn relevant_to(self, requested: Option<Format>) -> FormatChoice {
        if !depends_on_accept(requested, self.best_format) {
            return FormatChoice::default();
        }
        FormatChoice {
            accepts_avif: self.accepts_avif && self.auto_avif,
            ..self
        }
    }
}

/// Whether the output format for these inputs depends on the `Accept` header.
pub fn depends_on_accept(requested: Option<Format>, best_format: bool) -> bool {
    match requested {
        Some(Format::Auto) => true,
        None => best_format,
        Some(_) => false,
    }
}

fn negotiate(own: Format, has_alpha: bool, choice: FormatChoice) -> Format {
    if choice.accepts_avif && choice.auto_avif {
        return Format::Avif;
    }
    if choice.accepts_webp {
        return Format::Webp;
    }
    match own {
        Format::Webp if has_alpha => Format::Png,
        Format::Webp => Format::Jpeg,
        other => other,
    }
}

/// The smallest decode scale that keeps the first step sharp: what it scales its source region
/// to, over that region's size. Extracts (exact pixel regions) decode at full size.
fn shrink_on_load_scale(first: Option<&crate::Step>, width: u32, height: u32) -> f64 {
    let Some(first) = first else {
        return 1.0;
    };
    let exact = matches!(
        first.crop_mode,
        Some(CropMode::Extract | CropMode::PadExtract)
    ) || first.x.is_some()
        || first.y.is_some()
        || first.trim.is_some();
    if exact {
        return 1.0;
    }
    match geometry::plan(first, width, height) {
        Ok(plan) => {
            let sx = plan.scaled.0 as f64 / plan.source.width as f64;
            let sy = plan.scaled.1 as f64 / plan.source.height as f64;
            sx.max(sy).min(1.0)
        }
        Err(_) => 1.0,
    }
}

fn apply_orientation(image: DynamicImage, orientation: u8) -> DynamicImage {
    match orientation {
        2 => image.fliph(),
        3 => image.rotate180(),
        4 => image.flipv(),
        5 => image.rotate90().fliph(),
        6 => image.rotate90(),
        7 => image.rotate270().fliph(),
        8 => image.rotate270(),
        _ => image,
    }
}

fn fully_opaque(image: &DynamicImage) -> bool {
    match image {
        DynamicImage::ImageRgba8(rgba) => rgba.pixels().all(|p| p[3] == 255),
        other => !other.color().has_alpha(),
    }
}
