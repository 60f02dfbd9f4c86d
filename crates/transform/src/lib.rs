//! Transformations in ImageKit's URL syntax: text → a typed, canonical list of steps.
//!
//! `w-300,h-200:rt-90` is two [`Step`]s (`:` chains steps, `,` separates parameters, each
//! `key-value` or a flag). [`Transformation::parse`] is a pure function: unknown keys, bad values
//! and unknown named transformations are [`ParseError`]s that name the parameter.
//! [`Transformation::canonical`] prints a normal form, so `w-300,h-200` and `h-200,w-300` share
//! one cache entry. [`pipeline`] applies a transformation to an image (CPU only).

mod color;
pub mod effects;
pub mod expr;
#[cfg(any(test, feature = "hostile-inputs"))]
pub mod hostile_inputs;
pub mod layers;
mod params;
pub mod pipeline;
mod table;

/// The `image` crate this pipeline uses (for callers and tests that inspect results).
pub use image;
#[cfg(test)]
mod tests;

pub use color::Color;
pub use layers::Layer;
pub use params::{
    BlurredBackground, Border, Coordinate, Crop, CropMode, Dimension, Dpr, Flip, Focus, Format,
    Radius, Rotation, Unsharp,
};

use std::fmt::Write as _;

/// Longest transformation text accepted, in bytes (after named transformations are expanded).
pub const MAX_TEXT_LEN: usize = 2048;
/// Most chained steps accepted.
pub const MAX_STEPS: usize = 16;

/// A parsed transformation: steps applied left to right.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Transformation {
    pub steps: Vec<Step>,
    /// Whether any step was written out rather than taken from a named transformation
    /// (endpoints may allow named transformations only).
    pub has_explicit_parameters: bool,
}

/// One step: every parameter it sets. Unset parameters are `None`/`false`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Step {
    pub width: Option<Dimension>,
    pub height: Option<Dimension>,
    pub aspect_ratio: Option<(u32, u32)>,
    pub crop: Option<Crop>,
    pub crop_mode: Option<CropMode>,
    pub focus: Option<Focus>,
    /// `z-<factor>` with `fo-custom`: the region shown, zoomed in (above 1) or out around it.
    pub zoom: Option<f32>,
    pub x: Option<Coordinate>,
    pub y: Option<Coordinate>,
    pub x_center: Option<Coordinate>,
    pub y_center: Option<Coordinate>,
    pub dpr: Option<Dpr>,
    pub quality: Option<u8>,
    pub format: Option<Format>,
    pub progressive: Option<bool>,
    pub lossless: Option<bool>,
    pub blur: Option<u8>,
    pub grayscale: bool,
    pub sharpen: Option<u8>,
    pub unsharp: Option<Unsharp>,
    pub contrast: bool,
    pub rotation: Option<Rotation>,
    pub flip: Option<Flip>,
    pub radius: Option<Radius>,
    pub background: Option<Color>,
    /// `bg-blurred…`: the padding made of the picture itself.
    pub blurred_background: Option<BlurredBackground>,
    pub border: Option<Border>,
    pub trim: Option<u8>,
    pub gradient: Option<effects::Gradient>,
    pub colorize: Option<effects::Colorize>,
    pub shadow: Option<effects::Shadow>,
    pub distort: Option<effects::Distort>,
    /// `o-<0-100>`: the image's opacity (its alpha scaled), after everything else in the step.
    pub opacity: Option<u8>,
    pub metadata: Option<bool>,
    /// `orig-true`: the original bytes, every other parameter ignored.
    pub original: Option<bool>,
    /// `pg-<n>`: the n-th frame of an animation (from 1) as a still image.
    pub page: Option<u32>,
    /// A Media Library path (`di-` with `@@` for `/`), without a leading '/'.
    pub default_image: Option<String>,
    /// Overlays drawn on the step's result, in order ([`layers`]).
    pub layers: Vec<Layer>,
}

/// A transformation that cannot be parsed; the message names the parameter.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid transformation parameter {parameter:?}: {reason}")]
pub struct ParseError {
    pub parameter: String,
    pub reason: String,
}

impl ParseError {
    pub(crate) fn new(parameter: &str, reason: impl Into<String>) -> Self {
        Self {
            parameter: parameter.chars().take(100).collect(),
            reason: reason.into(),
        }
    }
}

impl Transformation {
    /// Parses `text`; `named` resolves `n-<name>` to its stored transformation text.
    pub fn parse(text: &str, named: &dyn Fn(&str) -> Option<String>) -> Result<Self, ParseError> {
        let mut out = Transformation::default();
        for step_text in text.split(':') {
            if let Some(name) = single_named(step_text)? {
                let stored = named(name).ok_or_else(|| {
                    ParseError::new(step_text, format!("no named transformation {name:?}"))
                })?;
                let expanded = Self::parse(&stored, &|_| None).map_err(|e| {
                    ParseError::new(step_text, format!("named transformation is invalid: {e}"))
                })?;
                out.steps.extend(expanded.steps);
            } else {
                out.steps.push(params::parse_step(step_text)?);
                out.has_explicit_parameters = true;
            }
        }
        let layers: usize = out.steps.iter().map(|s| layers::count(&s.layers)).sum();
        if layers > layers::MAX_LAYERS {
            return Err(ParseError::new(
                text,
                format!("more than {} layers", layers::MAX_LAYERS),
            ));
        }
        if out.steps.len() > MAX_STEPS {
            return Err(ParseError::new(
                text,
                format!("more than {MAX_STEPS} chained steps"),
            ));
        }
        if text.len() > MAX_TEXT_LEN {
            return Err(ParseError::new(
                text,
                format!("longer than {MAX_TEXT_LEN} bytes"),
            ));
        }
        Ok(out)
    }

    /// The normal form: each step's parameters in a fixed order, steps joined by ':'.
    pub fn canonical(&self) -> String {
        self.steps
            .iter()
            .map(Step::canonical)
            .collect::<Vec<_>>()
            .join(":")
    }

    /// `orig-true` anywhere: the original bytes, every other parameter ignored.
    pub fn wants_original(&self) -> bool {
        self.steps.iter().any(|s| s.original == Some(true))
    }

    /// The `di-` default image, if any step names one.
    pub fn default_image(&self) -> Option<&str> {
        self.steps
            .iter()
            .rev()
            .find_map(|s| s.default_image.as_deref())
    }

    /// Whether pixels must be processed: false when the request only picks the original
    /// (`orig-true`) or names a default image (`di-`).
    pub fn needs_processing(&self) -> bool {
        !self.wants_original()
            && self.steps.iter().any(|step| {
                let without_di = Step {
                    default_image: None,
                    ..step.clone()
                };
                without_di != Step::default()
            })
    }

    /// The Media Library files the layers read (images and fonts), each once, in order.
    pub fn layer_inputs(&self) -> Vec<String> {
        let mut out = Vec::new();
        for layer in self.steps.iter().flat_map(|s| &s.layers) {
            layer.inputs(&mut out);
        }
        let mut seen = std::collections::HashSet::new();
        out.retain(|path| seen.insert(path.clone()));
        out
    }

    /// Whether a step asks for the file's custom coordinates (`fo-custom`) not filled in yet.
    pub fn wants_custom_focus(&self) -> bool {
        self.steps
            .iter()
            .any(|s| s.focus == Some(Focus::Custom(None)))
    }

    /// Fills `fo-custom` with the file's custom coordinates (`x, y, width, height`); without
    /// them the step focuses on the centre. The canonical text then names the region, so
    /// results are cached per region.
    pub fn resolve_custom_focus(&mut self, region: Option<[u32; 4]>) {
        for step in &mut self.steps {
            if step.focus == Some(Focus::Custom(None)) {
                step.focus = Some(Focus::Custom(region));
            }
        }
    }

    /// The frame `pg-` picks, if any step names one.
    pub fn page(&self) -> Option<u32> {
        self.steps.iter().rev().find_map(|s| s.page)
    }

    /// The output format the last step that names one asks for.
    pub fn format(&self) -> Option<Format> {
        self.steps.iter().rev().find_map(|s| s.format)
    }

    /// Replaces `w-auto` and `dpr-auto` by the request's client hints (`Sec-CH-Width` in
    /// physical pixels, `Sec-CH-DPR`): without a width hint the original width is kept, without
    /// a DPR hint the factor is 1. Says which hints the answer depends on (for `Vary`); the
    /// canonical text then names the resolved values, so results are cached per value.
    pub fn resolve_client_hints(&mut self, hints: ClientHints) -> UsedHints {
        let mut used = UsedHints::default();
        for step in &mut self.steps {
            if step.width == Some(Dimension::Auto) {
                used.width = true;
                step.width = hints
                    .width
                    .filter(|w| (1..=100_000).contains(w))
                    .map(Dimension::Pixels);
            }
            if step.dpr == Some(Dpr::Auto) {
                used.dpr = true;
                step.dpr = hints
                    .dpr
                    .filter(|d| d.is_finite())
                    .map(|d| Dpr::Factor(((d.clamp(0.1, 5.0) * 100.0).round() / 100.0) as f32));
            }
        }
        // A step that asked only for hints the request did not give has nothing left to do.
        self.steps.retain(|step| *step != Step::default());
        used
    }
}

impl Step {
    /// This step with its arithmetic expressions (`w-iw_div_2`, `x-iw_div_4`) turned into pixels for
    /// `sizes`; an error names an expression that gives no usable size.
    pub fn with_sizes_resolved(&self, sizes: expr::Sizes) -> Result<Step, String> {
        if !self.has_expressions() {
            return Ok(self.clone());
        }
        let size = |d: Option<Dimension>, key: &str| -> Result<_, String> {
            Ok(match d {
                Some(Dimension::Expr(e)) => Some(Dimension::Pixels(pixels(e, sizes, key, 1)?)),
                other => other,
            })
        };
        let position = |c: Option<Coordinate>, key: &str| -> Result<_, String> {
            Ok(match c {
                Some(Coordinate::Expr(e)) => Some(Coordinate::Pixels(pixels(e, sizes, key, 0)?)),
                other => other,
            })
        };
        Ok(Step {
            width: size(self.width, "w")?,
            height: size(self.height, "h")?,
            x: position(self.x, "x")?,
            y: position(self.y, "y")?,
            x_center: position(self.x_center, "xc")?,
            y_center: position(self.y_center, "yc")?,
            ..self.clone()
        })
    }
}

impl Step {
    fn has_expressions(&self) -> bool {
        self.expressions().next().is_some()
    }

    /// The arithmetic expressions of this step's own sizes and positions, with their keys.
    fn expressions(&self) -> impl Iterator<Item = (&'static str, expr::Expr)> + '_ {
        let sizes = [("w", self.width), ("h", self.height)]
            .into_iter()
            .filter_map(|(key, d)| match d {
                Some(Dimension::Expr(e)) => Some((key, e)),
                _ => None,
            });
        let positions = [
            ("x", self.x),
            ("y", self.y),
            ("xc", self.x_center),
            ("yc", self.y_center),
        ]
        .into_iter()
        .filter_map(|(key, c)| match c {
            Some(Coordinate::Expr(e)) => Some((key, e)),
            _ => None,
        });
        sizes.chain(positions)
    }

    /// The key of an expression naming the parent's size (`bw`…) outside any layer.
    pub(crate) fn layer_variable_outside_layers(&self) -> Option<&'static str> {
        self.expressions()
            .find(|(_, e)| e.uses_base())
            .map(|(key, _)| key)
    }
}

/// `expression` (the value of `key`) in whole pixels for `sizes`, from `min` to 100,000.
fn pixels(expression: expr::Expr, sizes: expr::Sizes, key: &str, min: u32) -> Result<u32, String> {
    let Some(value) = expression.eval(sizes).map(f64::round) else {
        return Err(format!(
            "{key}-{expression} gives no number (a division by zero, or too large)"
        ));
    };
    if !(min as f64..=100_000.0).contains(&value) {
        return Err(format!(
            "{key}-{expression} gives {value} px, outside {min}-100000"
        ));
    }
    Ok(value as u32)
}

/// The client hints a request carries.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ClientHints {
    /// `Sec-CH-Width` (or the older `Width`): the image's layout width in physical pixels.
    pub width: Option<u32>,
    /// `Sec-CH-DPR` (or the older `DPR`).
    pub dpr: Option<f64>,
}

/// Which client hints a transformation used.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UsedHints {
    pub width: bool,
    pub dpr: bool,
}

/// `n-<name>` when it is a step's only parameter; an error when mixed with others.
fn single_named(step: &str) -> Result<Option<&str>, ParseError> {
    let mut named = None;
    let mut count = 0;
    for param in step.split(',') {
        count += 1;
        if let Some(name) = param.strip_prefix("n-") {
            if name.is_empty() {
                return Err(ParseError::new(
                    param,
                    "a named transformation needs a name",
                ));
            }
            named = Some(name);
        }
    }
    match named {
        Some(_) if count > 1 => Err(ParseError::new(
            step,
            "n-<name> must be the only parameter of its step",
        )),
        other => Ok(other),
    }
}

impl Step {
    /// This step in normal form: its parameters in the table's order ([`table::PARAMS`]),
    /// then its layers in the order written.
    pub fn canonical(&self) -> String {
        let mut out = String::new();
        for row in table::PARAMS {
            let Some(value) = (row.print)(self) else {
                continue;
            };
            if !out.is_empty() {
                out.push(',');
            }
            out.push_str(row.key);
            if !value.is_empty() {
                out.push('-');
                out.push_str(&value);
            }
        }
        for layer in &self.layers {
            if !out.is_empty() {
                out.push(',');
            }
            let _ = write!(out, "{layer}");
        }
        out
    }
}
