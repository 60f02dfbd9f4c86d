//! Parameters: which keys exist, how each value is read, and how it prints in canonical form.

use crate::color::Color;
use crate::{ParseError, Step};
use std::fmt;

/// ImageKit keys pixelway does not apply (yet): named in the error instead of "unknown".
const NOT_SUPPORTED: &[&str] = &[
    "e-bgremove",
    "e-removedotbg",
    "e-upscale",
    "e-retouch",
    "e-genvar",
    "e-dropshadow",
    "e-changebg",
    "e-edit",
    "bg-genfill",
    "cr",
    "cp",
    "dn",
    "so",
    "eo",
    "du",
    "vc",
    "ac",
    "sr",
    "raw",
];

/// Keys that belong inside a layer (`l-image … l-end`): named in the error when found outside one.
const LAYER_ONLY: &[&str] = &[
    "i", "ie", "lx", "ly", "lxc", "lyc", "lfo", "lap", "lm", "lso", "leo", "ldu", "al", "fs", "ff",
    "co", "tg", "ia", "pa", "lh",
];

/// A width or height: pixels, or a fraction of the input's size.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Dimension {
    Pixels(u32),
    Fraction(f32),
    /// `w-auto`: the `Sec-CH-Width` client hint, resolved per request
    /// ([`crate::Transformation::resolve_client_hints`]); the original width without one.
    Auto,
    /// `w-iw_div_2`: resolved to pixels when its step runs ([`crate::expr`]).
    Expr(crate::expr::Expr),
}

/// A position (`x`, `y`, `xc`, `yc`): pixels, or an expression resolved when its step runs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Coordinate {
    Pixels(u32),
    Expr(crate::expr::Expr),
}

impl Coordinate {
    /// The position in pixels (an expression not resolved yet counts as 0).
    pub fn pixels(self) -> u32 {
        match self {
            Coordinate::Pixels(px) => px,
            Coordinate::Expr(_) => 0,
        }
    }
}

impl fmt::Display for Coordinate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Coordinate::Pixels(px) => write!(f, "{px}"),
            Coordinate::Expr(expression) => write!(f, "{expression}"),
        }
    }
}

/// `dpr-<n>` or `dpr-auto` (the `Sec-CH-DPR` client hint, resolved per request; 1 without one).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Dpr {
    Factor(f32),
    Auto,
}

impl Dpr {
    /// The factor sizes are multiplied by (an unresolved `auto` counts as 1).
    pub fn factor(self) -> f32 {
        match self {
            Dpr::Factor(factor) => factor,
            Dpr::Auto => 1.0,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Crop {
    MaintainRatio,
    Force,
    AtMax,
    AtMaxEnlarge,
    AtLeast,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CropMode {
    PadResize,
    Extract,
    PadExtract,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    Center,
    Top,
    Left,
    Bottom,
    Right,
    TopLeft,
    TopRight,
    BottomLeft,
    BottomRight,
    /// The most interesting region (saliency/entropy).
    Auto,
    /// `fo-custom`: the file's custom coordinates (`x, y, width, height` in the original's
    /// pixels), filled in by the server from the Media Library; `None` until then (centre).
    Custom(Option<[u32; 4]>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Auto,
    Jpeg,
    Png,
    Webp,
    Avif,
    Gif,
    Original,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rotation {
    /// Degrees clockwise, 0–359.
    Degrees(u16),
    /// From EXIF orientation.
    Auto,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flip {
    Horizontal,
    Vertical,
    Both,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Radius {
    Max,
    /// Top-left, top-right, bottom-right, bottom-left.
    Corners([u32; 4]),
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Unsharp {
    pub radius: f32,
    pub sigma: f32,
    pub amount: f32,
    pub threshold: f32,
}

/// `bg-blurred[_<intensity>|_auto][_<brightness>]` (with `cm-pad_resize`): the padding is the
/// picture itself, scaled to cover the canvas, blurred and brightened or darkened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlurredBackground {
    /// 1–100; `None`: auto.
    pub intensity: Option<u8>,
    /// -255–255 added to every channel (`N` writes the minus sign).
    pub brightness: i16,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Border {
    pub width: u32,
    pub color: Color,
}

/// Parses one step (`w-300,h-200,c-at_max`, layers included).
pub(crate) fn parse_step(text: &str) -> Result<Step, ParseError> {
    let mut step = Step::default();
    if text.is_empty() {
        return Err(ParseError::new(text, "empty step (two ':' in a row?)"));
    }
    let mut params = text.split(',');
    while let Some(param) = params.next() {
        if param == "l-end" {
            return Err(ParseError::new(param, "l-end without an open layer"));
        }
        if param.starts_with("l-") {
            let layer = crate::layers::parse_layer(param, &mut params, 1)?;
            step.layers.push(layer);
            continue;
        }
        apply_param(&mut step, param)?;
    }
    if step.zoom.is_some() && !matches!(step.focus, Some(Focus::Custom(_))) {
        return Err(ParseError::new(
            text,
            "z- zooms around fo-custom (pixelway has no face or object detection)",
        ));
    }
    if let Some(key) = step.layer_variable_outside_layers() {
        return Err(ParseError::new(
            text,
            format!("{key}: bw, bh and bar (the parent's size) only mean something inside a layer"),
        ));
    }
    Ok(step)
}

/// Reads one `key-value` parameter of a step into `step` (its row in [`crate::table`]).
pub(crate) fn apply_param(step: &mut Step, param: &str) -> Result<(), ParseError> {
    if param.is_empty() {
        return Err(ParseError::new(
            param,
            "empty parameter (two ',' in a row?)",
        ));
    }
    let Some((row, value)) = crate::table::row_of(param) else {
        return Err(unknown(param));
    };
    (row.read)(step, value).map_err(|reason| ParseError::new(param, reason))
}

/// Why `param` is no parameter of a step: a layer key outside a layer, an ImageKit key pixelway
/// does not apply, or an unknown one.
fn unknown(param: &str) -> ParseError {
    let bare_key = param.split_once('-').map_or(param, |(key, _)| key);
    if LAYER_ONLY.contains(&bare_key) {
        return ParseError::new(param, "belongs inside a layer (l-image or l-text … l-end)");
    }
    if NOT_SUPPORTED
        .iter()
        .any(|k| param == *k || param.starts_with(&format!("{}-", k.trim_end_matches('-'))))
    {
        return ParseError::new(param, "this parameter is not supported");
    }
    ParseError::new(param, "unknown parameter")
}

const DIMENSION: &str =
    "expected pixels (1-100000), a fraction between 0 and 1, or an expression such as iw_div_2";
const COORDINATE: &str = "expected pixels (0-100000) or an expression such as iw_div_4";

pub(crate) fn int(value: &str, min: u32, max: u32) -> Option<u32> {
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) || value.len() > 9 {
        return None;
    }
    value.parse().ok().filter(|v| (min..=max).contains(v))
}

pub(crate) fn number(value: &str, min: f32, max: f32) -> Option<f32> {
    let ok = !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit() || b == b'.');
    let parsed: f32 = if ok { value.parse().ok()? } else { return None };
    (min..=max).contains(&parsed).then_some(parsed)
}

pub(crate) fn blurred(value: &str) -> Option<BlurredBackground> {
    let mut parts = value.split('_');
    if parts.next()? != "blurred" {
        return None;
    }
    let intensity = match parts.next() {
        None | Some("auto") => None,
        Some(n) => Some(int(n, 1, 100)? as u8),
    };
    let brightness = match parts.next() {
        None => 0,
        Some(n) => match n.strip_prefix('N') {
            Some(minus) => -(int(minus, 0, 255)? as i16),
            None => int(n, 0, 255)? as i16,
        },
    };
    parts.next().is_none().then_some(BlurredBackground {
        intensity,
        brightness,
    })
}

impl fmt::Display for BlurredBackground {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("blurred")?;
        match self.intensity {
            Some(n) => write!(f, "_{n}")?,
            None if self.brightness != 0 => f.write_str("_auto")?,
            None => {}
        }
        match self.brightness {
            0 => Ok(()),
            b if b < 0 => write!(f, "_N{}", -b),
            b => write!(f, "_{b}"),
        }
    }
}

/// A position: pixels, or an arithmetic expression (`x-iw_div_4`).
pub(crate) fn coordinate(value: &str) -> Result<Coordinate, &'static str> {
    match crate::expr::Expr::parse(value) {
        Some(expression) => expression.map(Coordinate::Expr),
        None => int(value, 0, 100_000)
            .map(Coordinate::Pixels)
            .ok_or(COORDINATE),
    }
}

/// A width or height: pixels, a fraction, or an arithmetic expression.
pub(crate) fn size(value: &str) -> Result<Dimension, &'static str> {
    match crate::expr::Expr::parse(value) {
        Some(expression) => expression.map(Dimension::Expr),
        None => dimension(value).ok_or(DIMENSION),
    }
}

fn dimension(value: &str) -> Option<Dimension> {
    if value.contains('.') {
        let fraction = number(value, 0.0, 1.0)?;
        return (fraction > 0.0 && fraction < 1.0).then_some(Dimension::Fraction(fraction));
    }
    int(value, 1, 100_000).map(Dimension::Pixels)
}

pub(crate) fn aspect_ratio(value: &str) -> Option<(u32, u32)> {
    let (a, b) = value.split_once('-').or_else(|| value.split_once('_'))?;
    Some((int(a, 1, 10_000)?, int(b, 1, 10_000)?))
}

pub(crate) fn crop(value: &str) -> Option<Crop> {
    Some(match value {
        "maintain_ratio" => Crop::MaintainRatio,
        "force" => Crop::Force,
        "at_max" => Crop::AtMax,
        "at_max_enlarge" => Crop::AtMaxEnlarge,
        "at_least" => Crop::AtLeast,
        _ => return None,
    })
}

pub(crate) fn crop_mode(value: &str) -> Option<CropMode> {
    Some(match value {
        "pad_resize" => CropMode::PadResize,
        "extract" => CropMode::Extract,
        "pad_extract" => CropMode::PadExtract,
        _ => return None,
    })
}

pub(crate) fn focus(value: &str) -> Option<Focus> {
    Some(match value {
        "center" => Focus::Center,
        "top" => Focus::Top,
        "left" => Focus::Left,
        "bottom" => Focus::Bottom,
        "right" => Focus::Right,
        "top_left" => Focus::TopLeft,
        "top_right" => Focus::TopRight,
        "bottom_left" => Focus::BottomLeft,
        "bottom_right" => Focus::BottomRight,
        "auto" => Focus::Auto,
        "custom" => Focus::Custom(None),
        other => {
            let numbers = other.strip_prefix("custom_")?;
            let parts: Vec<u32> = numbers
                .split('_')
                .map(|n| int(n, 0, 100_000))
                .collect::<Option<_>>()?;
            let [x, y, w, h] = parts[..] else {
                return None;
            };
            (w > 0 && h > 0).then_some(Focus::Custom(Some([x, y, w, h])))?
        }
    })
}

pub(crate) fn format(value: &str) -> Option<Format> {
    Some(match value {
        "auto" => Format::Auto,
        "jpg" | "jpeg" => Format::Jpeg,
        "png" => Format::Png,
        "webp" => Format::Webp,
        "avif" => Format::Avif,
        "gif" => Format::Gif,
        "orig" => Format::Original,
        _ => return None,
    })
}

pub(crate) fn boolean(value: &str) -> Option<bool> {
    match value {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    }
}

pub(crate) fn flag(value: &str) -> Option<bool> {
    value.is_empty().then_some(true)
}

pub(crate) fn unsharp(value: &str) -> Option<Unsharp> {
    if value.is_empty() {
        return Some(Unsharp {
            radius: 2.0,
            sigma: 2.0,
            amount: 0.8,
            threshold: 0.024,
        });
    }
    let parts: Vec<&str> = value.split('-').collect();
    let [radius, sigma, amount, threshold] = parts.as_slice() else {
        return None;
    };
    Some(Unsharp {
        radius: number(radius, 0.0, 100.0)?,
        sigma: number(sigma, 0.01, 100.0)?,
        amount: number(amount, 0.0, 10.0)?,
        threshold: number(threshold, 0.0, 1.0)?,
    })
}

pub(crate) fn rotation(value: &str) -> Option<Rotation> {
    if value == "auto" {
        return Some(Rotation::Auto);
    }
    let (counter, digits) = match value.strip_prefix('N') {
        Some(rest) => (true, rest),
        None => (false, value),
    };
    let degrees = int(digits, 0, 359)? as u16;
    Some(Rotation::Degrees(if counter {
        (360 - degrees) % 360
    } else {
        degrees
    }))
}

pub(crate) fn flip(value: &str) -> Option<Flip> {
    Some(match value {
        "h" => Flip::Horizontal,
        "v" => Flip::Vertical,
        "h_v" | "v_h" => Flip::Both,
        _ => return None,
    })
}

pub(crate) fn radius(value: &str) -> Option<Radius> {
    if value == "max" {
        return Some(Radius::Max);
    }
    let parts: Vec<u32> = value
        .split('_')
        .map(|p| int(p, 0, 100_000))
        .collect::<Option<_>>()?;
    match parts.as_slice() {
        [all] => Some(Radius::Corners([*all; 4])),
        [a, b, c, d] => Some(Radius::Corners([*a, *b, *c, *d])),
        _ => None,
    }
}

pub(crate) fn border(value: &str) -> Option<Border> {
    let (width, color) = value.split_once('_').or_else(|| value.split_once('-'))?;
    Some(Border {
        width: int(width, 1, 1000)?,
        color: Color::parse(color)?,
    })
}

pub(crate) fn trim(value: &str) -> Option<u8> {
    if value == "true" {
        return Some(10);
    }
    int(value, 1, 99).map(|v| v as u8)
}

/// `di-`: a Media Library path as URLs write it.
pub(crate) fn default_image(value: &str) -> Option<String> {
    media_path_from_url(value)
}

/// `@@path@@to@@img.jpg` or `path@@to@@img.jpg` → `path/to/img.jpg`, checked like any path.
/// A literal '/' is refused: it would make the `@@` mapping ambiguous (found by fuzzing).
pub(crate) fn media_path_from_url(value: &str) -> Option<String> {
    if value.contains('/') {
        return None;
    }
    checked_media_path(&value.replace("@@", "/"))
}

/// A Media Library path without its outer '/': no `.` or `..` segments, no empty ones, no
/// backslashes or control characters.
pub(crate) fn checked_media_path(path: &str) -> Option<String> {
    let path = path.trim_matches('/');
    let plain = !path.is_empty()
        && path
            .split('/')
            .all(|s| !s.is_empty() && s != "." && s != "..")
        && !path.contains('\\')
        && !path.chars().any(char::is_control);
    plain.then(|| path.to_string())
}

impl fmt::Display for Dimension {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Dimension::Pixels(px) => write!(f, "{px}"),
            Dimension::Fraction(fraction) => write!(f, "{fraction}"),
            Dimension::Auto => write!(f, "auto"),
            Dimension::Expr(expression) => write!(f, "{expression}"),
        }
    }
}

impl fmt::Display for Dpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Dpr::Factor(factor) => write!(f, "{factor}"),
            Dpr::Auto => write!(f, "auto"),
        }
    }
}

macro_rules! display_as {
    ($type:ty { $($variant:pat => $text:expr),+ $(,)? }) => {
        impl fmt::Display for $type {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(match self { $($variant => $text),+ })
            }
        }
    };
}

display_as!(Crop {
    Crop::MaintainRatio => "maintain_ratio",
    Crop::Force => "force",
    Crop::AtMax => "at_max",
    Crop::AtMaxEnlarge => "at_max_enlarge",
    Crop::AtLeast => "at_least",
});
display_as!(CropMode {
    CropMode::PadResize => "pad_resize",
    CropMode::Extract => "extract",
    CropMode::PadExtract => "pad_extract",
});
impl fmt::Display for Focus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Focus::Center => "center",
            Focus::Top => "top",
            Focus::Left => "left",
            Focus::Bottom => "bottom",
            Focus::Right => "right",
            Focus::TopLeft => "top_left",
            Focus::TopRight => "top_right",
            Focus::BottomLeft => "bottom_left",
            Focus::BottomRight => "bottom_right",
            Focus::Auto => "auto",
            Focus::Custom(None) => "custom",
            Focus::Custom(Some([x, y, w, h])) => return write!(f, "custom_{x}_{y}_{w}_{h}"),
        })
    }
}
display_as!(Format {
    Format::Auto => "auto",
    Format::Jpeg => "jpg",
    Format::Png => "png",
    Format::Webp => "webp",
    Format::Avif => "avif",
    Format::Gif => "gif",
    Format::Original => "orig",
});
display_as!(Flip {
    Flip::Horizontal => "h",
    Flip::Vertical => "v",
    Flip::Both => "h_v",
});

impl fmt::Display for Rotation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rotation::Degrees(d) => write!(f, "{d}"),
            Rotation::Auto => f.write_str("auto"),
        }
    }
}

impl fmt::Display for Radius {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Radius::Max => f.write_str("max"),
            Radius::Corners([a, b, c, d]) if a == b && b == c && c == d => write!(f, "{a}"),
            Radius::Corners([a, b, c, d]) => write!(f, "{a}_{b}_{c}_{d}"),
        }
    }
}

impl fmt::Display for Unsharp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}-{}-{}-{}",
            self.radius, self.sigma, self.amount, self.threshold
        )
    }
}

impl fmt::Display for Border {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}_{}", self.width, self.color)
    }
}
