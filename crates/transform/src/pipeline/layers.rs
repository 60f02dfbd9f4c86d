//! Drawing a step's layers on its result, in order: each layer's pixels (a file run through the
//! layer's own step, a text box, or a solid block — nested layers drawn on them the same way),
//! its `al-` opacity, its place on the parent, then alpha compositing. The pixel and side limits
//! hold for every layer as for the base image, the time budget is checked after each, and the
//! memory budget counts the parent's canvas while its layers are drawn. A still image's layers
//! are dropped as soon as they are placed; only an animation keeps them (drawn once, placed on
//! every frame), and what it keeps is counted against the memory budget until it ends.

use super::{Budget, Limits, ProcessError, rgba_bytes, text};
use crate::expr::Sizes;
use crate::layers::{Layer, Offset, Source};
use crate::params::{Coordinate, Dimension, Focus};
use crate::{Color, Step};
use image::{DynamicImage, Rgba, RgbaImage};
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

/// The files layers read (images and fonts), by Media Library path, as fetched by the caller.
pub type LayerFiles = HashMap<String, Vec<u8>>;

/// What drawing layers needs besides the image.
pub(super) struct Context<'a> {
    pub files: &'a LayerFiles,
    pub limits: Limits,
    pub budget: &'a Budget,
    /// Layers already drawn, by layer and parent size: the frames of an animation share them.
    drawn: RefCell<HashMap<DrawnKey, Rc<RgbaImage>>>,
    /// Keep drawn layers for later frames (animations only).
    keep_drawn: Cell<bool>,
    /// What decoders recovered from (a truncated file drawn as far as it goes), for the answer.
    warnings: RefCell<Vec<String>>,
}

/// A layer (by address: it lives as long as the transformation) on a parent of a size.
type DrawnKey = (usize, (u32, u32));

impl<'a> Context<'a> {
    pub fn new(files: &'a LayerFiles, limits: Limits, budget: &'a Budget) -> Self {
        Self {
            files,
            limits,
            budget,
            drawn: RefCell::default(),
            keep_drawn: Cell::new(false),
            warnings: RefCell::default(),
        }
    }

    /// Notes what a decoder recovered from.
    pub fn warn(&self, warning: String) {
        let mut warnings = self.warnings.borrow_mut();
        if !warnings.contains(&warning) {
            warnings.push(warning);
        }
    }

    /// What decoders recovered from, in order.
    pub fn warnings(&self) -> Vec<String> {
        self.warnings.borrow().clone()
    }

    /// Keeps each layer once drawn, for every frame of an animation.
    pub fn keep_layers_for_every_frame(&self) {
        self.keep_drawn.set(true);
    }
}

/// Draws `layers` on `image`; returns it unchanged when there are none.
pub(super) fn draw_all(
    image: DynamicImage,
    layers: &[Layer],
    context: &Context,
) -> Result<DynamicImage, ProcessError> {
    if layers.is_empty() {
        return Ok(image);
    }
    let canvas_bytes = rgba_bytes(image.width(), image.height());
    if !matches!(image, DynamicImage::ImageRgba8(_)) {
        // The conversion holds both at once.
        context.budget.check_memory(2 * canvas_bytes, "a layer")?;
    }
    let mut canvas = image.into_rgba8();
    context.budget.hold_memory(canvas_bytes, "a layer")?;
    let drawn_all = draw_each(&mut canvas, layers, context);
    context.budget.release_memory(canvas_bytes);
    drawn_all.map(|()| DynamicImage::ImageRgba8(canvas))
}

fn draw_each(
    canvas: &mut RgbaImage,
    layers: &[Layer],
    context: &Context,
) -> Result<(), ProcessError> {
    for layer in layers {
        let parent = canvas.dimensions();
        let pixels = drawn(layer, parent, context)?;
        let (x, y) = place(layer, parent, pixels.dimensions())?;
        image::imageops::overlay(canvas, pixels.as_ref(), x, y);
        context.budget.check("a layer")?;
    }
    Ok(())
}

/// The layer's pixels on a parent of this size, drawn once per transformation.
fn drawn(
    layer: &Layer,
    parent: (u32, u32),
    context: &Context,
) -> Result<Rc<RgbaImage>, ProcessError> {
    if !context.keep_drawn.get() {
        return Ok(Rc::new(pixels_of(layer, parent, context)?));
    }
    let key = (std::ptr::from_ref(layer) as usize, parent);
    if let Some(pixels) = context.drawn.borrow().get(&key) {
        return Ok(Rc::clone(pixels));
    }
    let pixels = Rc::new(pixels_of(layer, parent, context)?);
    let bytes = rgba_bytes(pixels.width(), pixels.height());
    context
        .budget
        .hold_memory(bytes, "a layer kept for every frame")?;
    context.drawn.borrow_mut().insert(key, Rc::clone(&pixels));
    Ok(pixels)
}

/// The layer as pixels, its own step and nested layers applied, its opacity set.
fn pixels_of(
    layer: &Layer,
    parent: (u32, u32),
    context: &Context,
) -> Result<RgbaImage, ProcessError> {
    let sizes = Sizes {
        initial: parent,
        current: parent,
        base: Some(parent),
    };
    let image = match &layer.source {
        Source::Image(path) => {
            let bytes = context.files.get(path).ok_or_else(|| missing(path))?;
            let steps = std::slice::from_ref(&layer.step);
            super::render(bytes, steps, Some(parent), context)
                .map_err(|e| about_input(path, e))?
                .0
        }
        Source::Text(text) => {
            let step = resolved(&layer.step, sizes)?;
            let font_file = match &layer.text.family {
                Some(crate::layers::FontFamily::Library(path)) => Some(
                    context
                        .files
                        .get(path)
                        .map(Vec::as_slice)
                        .ok_or_else(|| missing(path))?,
                ),
                _ => None,
            };
            let size = match layer.text.size {
                Some(size) => position(size, sizes, "fs")?.clamp(1, 2000) as u32,
                None => text::DEFAULT_SIZE,
            };
            let text_box = text::TextBox {
                text,
                style: &layer.text,
                size,
                width: pixels_along(step.width, parent.0),
                background: step.background,
                font_file,
            };
            let drawn = text::render(&text_box, context.limits.max_output_side, context.budget)?;
            let rest = Step {
                width: None,
                height: None,
                background: None,
                ..step
            };
            super::apply_step(DynamicImage::ImageRgba8(drawn), &rest, None, context)?
        }
        Source::Solid(color) => {
            let step = resolved(&layer.step, sizes)?;
            let width = pixels_along(step.width, parent.0).unwrap_or(parent.0);
            let height = pixels_along(step.height, parent.1).unwrap_or(parent.1);
            let limit = context.limits.max_output_side;
            if width > limit || height > limit {
                return Err(ProcessError::TooLarge {
                    width,
                    height,
                    limit,
                });
            }
            // The block and the result of its own step.
            let bytes = 2 * rgba_bytes(width.max(1), height.max(1));
            context.budget.check_memory(bytes, "a solid layer")?;
            let block = RgbaImage::from_pixel(width.max(1), height.max(1), rgba(*color));
            let rest = Step {
                width: None,
                height: None,
                ..step
            };
            super::apply_step(DynamicImage::ImageRgba8(block), &rest, None, context)?
        }
    };
    let mut pixels = image.into_rgba8();
    if let Some(tenths) = layer.alpha {
        for pixel in pixels.pixels_mut() {
            pixel[3] = (pixel[3] as u32 * tenths as u32 / 10) as u8;
        }
    }
    Ok(pixels)
}

fn resolved(step: &Step, sizes: Sizes) -> Result<Step, ProcessError> {
    step.with_sizes_resolved(sizes)
        .map_err(ProcessError::Geometry)
}

fn missing(path: &str) -> ProcessError {
    ProcessError::LayerInput {
        path: path.to_string(),
        reason: "not found".into(),
    }
}

/// A layer file's own failures (not an image, corrupt, too large) name the file.
fn about_input(path: &str, error: ProcessError) -> ProcessError {
    match error {
        ProcessError::UnsupportedInput(_)
        | ProcessError::Corrupt(_)
        | ProcessError::TooManyPixels { .. }
        | ProcessError::TooManyFrames { .. }
        | ProcessError::TooManyScans { .. }
        | ProcessError::TooCostly { .. } => ProcessError::LayerInput {
            path: path.to_string(),
            reason: error.to_string(),
        },
        other => other,
    }
}

/// A width or height in pixels along a parent side of `parent_len` (fractions are of it).
fn pixels_along(dimension: Option<Dimension>, parent_len: u32) -> Option<u32> {
    match dimension? {
        Dimension::Pixels(px) => Some(px),
        Dimension::Fraction(f) => Some(((parent_len as f32 * f).round() as u32).max(1)),
        Dimension::Auto | Dimension::Expr(_) => None,
    }
}

fn rgba(color: Color) -> Rgba<u8> {
    Rgba([color.r, color.g, color.b, color.a])
}

/// A coordinate in pixels for `sizes` (an expression evaluated, within ±100,000).
fn position(value: Coordinate, sizes: Sizes, key: &str) -> Result<i64, ProcessError> {
    match value {
        Coordinate::Pixels(px) => Ok(px as i64),
        Coordinate::Expr(expression) => expression
            .eval(sizes)
            .filter(|v| v.abs() <= 100_000.0)
            .map(|v| v.round() as i64)
            .ok_or_else(|| {
                ProcessError::Geometry(format!(
                    "{key}-{expression} gives no usable position for this image"
                ))
            }),
    }
}

/// The layer's top-left corner on its parent. Per axis: `lxc` places the layer's centre; `lx`
/// places its anchor point (`lap`, top-left by default) — from the far edge with `N`, where the
/// layer's far side lands that far from the parent's; else `lfo`; else centred.
fn place(layer: &Layer, parent: (u32, u32), size: (u32, u32)) -> Result<(i64, i64), ProcessError> {
    let p = &layer.position;
    let sizes = Sizes {
        initial: size,
        current: size,
        base: Some(parent),
    };
    let (focus_x, focus_y) = fractions(p.focus.unwrap_or(Focus::Center));
    let (anchor_x, anchor_y) = fractions(p.anchor.unwrap_or(Focus::TopLeft));
    let axis = |center: Option<Offset>,
                edge: Option<Offset>,
                parent_len: u32,
                len: u32,
                focus: f64,
                anchor: f64,
                keys: (&str, &str)|
     -> Result<i64, ProcessError> {
        let (parent_len, len) = (parent_len as i64, len as i64);
        if let Some(offset) = center {
            let at = position(offset.value, sizes, keys.0)?;
            let at = if offset.from_far_edge {
                parent_len - at
            } else {
                at
            };
            return Ok(at - len / 2);
        }
        if let Some(offset) = edge {
            let at = position(offset.value, sizes, keys.1)?;
            let anchor_px = (len as f64 * anchor).round() as i64;
            return Ok(if offset.from_far_edge {
                parent_len - at - (len - anchor_px)
            } else {
                at - anchor_px
            });
        }
        Ok(((parent_len - len) as f64 * focus).round() as i64)
    };
    let x = axis(
        p.x_center,
        p.x,
        parent.0,
        size.0,
        focus_x,
        anchor_x,
        ("lxc", "lx"),
    )?;
    let y = axis(
        p.y_center,
        p.y,
        parent.1,
        size.1,
        focus_y,
        anchor_y,
        ("lyc", "ly"),
    )?;
    Ok((x, y))
}

/// Where a focus sits across and down, from 0 (left, top) to 1 (right, bottom).
fn fractions(focus: Focus) -> (f64, f64) {
    match focus {
        Focus::TopLeft => (0.0, 0.0),
        Focus::Top => (0.5, 0.0),
        Focus::TopRight => (1.0, 0.0),
        Focus::Left => (0.0, 0.5),
        Focus::Center | Focus::Auto | Focus::Custom(_) => (0.5, 0.5),
        Focus::Right => (1.0, 0.5),
        Focus::BottomLeft => (0.0, 1.0),
        Focus::Bottom => (0.5, 1.0),
        Focus::BottomRight => (1.0, 1.0),
    }
}
