//! Overlay layers, as ImageKit writes them inside a step: `l-image,i-logo.png,lfo-bottom_right,
//! w-50,l-end`, `l-text,i-Sale,fs-40,co-FFFFFF,bg-000000,pa-10,l-end`, and the solid block the
//! SDKs write as `l-image,i-ik_canvas,bg-FF0000,w-100,h-50,l-end` (`l-solid` too).
//!
//! A layer is opened by `l-<type>` and closed by `l-end`. Between them: its input (`i-`, or
//! `ie-` base64), its position (`lx`, `ly`, `lxc`, `lyc` — pixels, `N` for "from the far
//! edge", or expressions with `bw`/`bh` — `lfo`, `lap`), text keys for text layers, and its own
//! transformation: any step parameter, including further layers, up to [`MAX_DEPTH`] deep. This
//! module owns the layer types, their parsing and their canonical text; drawing them is
//! `pipeline::layers`.

use crate::params::{self, Coordinate, Focus};
use crate::{Color, ParseError, Step};
use base64::Engine as _;
use std::fmt;

/// Most layers in one transformation, nested ones included.
pub const MAX_LAYERS: usize = 10;
/// Deepest nesting: a layer inside a layer inside a layer.
pub const MAX_DEPTH: usize = 3;
/// Longest text of a text layer, in characters.
pub const MAX_TEXT_CHARS: usize = 500;

/// The Media Library path the SDKs name for a solid-colour canvas.
const CANVAS: &str = "ik_canvas";

/// One overlay: what it draws, where, and its own transformation.
#[derive(Debug, Clone, PartialEq)]
pub struct Layer {
    pub source: Source,
    pub position: Position,
    /// Text keys; all unset for image and solid layers.
    pub text: TextStyle,
    /// `al-<1-9>`: the layer's opacity in tenths.
    pub alpha: Option<u8>,
    /// The layer's own parameters (`w`, `h`, `rt`, `r`, `o`, `bg`…), nested layers included.
    pub step: Step,
}

/// What a layer draws.
#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    /// A file fetched through the endpoint's origins, like any original.
    Image(String),
    Text(String),
    /// A block of one colour, sized by the layer's `w`/`h` (the parent's size without them).
    Solid(Color),
}

/// Where a layer goes on its parent. Unset axes are centred.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Position {
    pub x: Option<Offset>,
    pub y: Option<Offset>,
    /// `lxc`, `lyc`: where the layer's centre goes.
    pub x_center: Option<Offset>,
    pub y_center: Option<Offset>,
    /// `lfo`: one of nine places on the parent.
    pub focus: Option<Focus>,
    /// `lap`: the point of the layer `lx`/`ly` place (its top-left corner by default).
    pub anchor: Option<Focus>,
}

/// A layer coordinate: from the parent's near edge, or (`N` prefix) from its far edge.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Offset {
    pub from_far_edge: bool,
    pub value: Coordinate,
}

/// How a text layer is set.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TextStyle {
    /// `fs-`: font size in pixels (or an expression such as `bh_div_10`).
    pub size: Option<Coordinate>,
    /// `ff-`: a built-in font or a font file in the Media Library.
    pub family: Option<FontFamily>,
    /// `co-`: text colour (black by default).
    pub color: Option<Color>,
    /// `tg-`: `b`, `i`, `strikethrough`, joined by `_`.
    pub typography: Typography,
    /// `ia-`: alignment of the lines in the box.
    pub align: Option<Align>,
    /// `pa-`: padding around the text (top, right, bottom, left).
    pub padding: Option<[u32; 4]>,
    /// `lh-`: line height in pixels.
    pub line_height: Option<u32>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Typography {
    pub bold: bool,
    pub italic: bool,
    pub strikethrough: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    Center,
    Right,
}

/// `ff-`: one of the fonts built into pixelway, or a `.ttf`/`.otf` in the Media Library.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FontFamily {
    Builtin(BuiltinFont),
    Library(String),
}

/// The fonts compiled into the binary (DejaVu, under the Bitstream Vera licence).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BuiltinFont {
    Sans,
    Serif,
    Mono,
}

impl BuiltinFont {
    /// Names `ff-` accepts for each built-in font, the first one canonical.
    pub const NAMES: &'static [(BuiltinFont, &'static [&'static str])] = &[
        (
            BuiltinFont::Sans,
            &[
                "DejaVuSans",
                "sans-serif",
                "sans",
                "Arial",
                "Helvetica",
                "Roboto",
                "OpenSans",
            ],
        ),
        (
            BuiltinFont::Serif,
            &[
                "DejaVuSerif",
                "serif",
                "TimesNewRoman",
                "Georgia",
                "PTSerif",
            ],
        ),
        (
            BuiltinFont::Mono,
            &["DejaVuSansMono", "monospace", "mono", "Courier", "PTMono"],
        ),
    ];

    fn from_name(name: &str) -> Option<BuiltinFont> {
        Self::NAMES.iter().find_map(|(font, names)| {
            names
                .iter()
                .any(|n| n.eq_ignore_ascii_case(name))
                .then_some(*font)
        })
    }

    fn name(self) -> &'static str {
        Self::NAMES
            .iter()
            .find(|(font, _)| *font == self)
            .map(|(_, names)| names[0])
            .unwrap_or("DejaVuSans")
    }
}

/// Parses a layer whose opening parameter (`l-image`, `l-text`, `l-solid`) was `opening`;
/// `params` yields the parameters after it and is left after its `l-end`. `depth` is this
/// layer's nesting level (1 for a layer of a step).
pub(crate) fn parse_layer<'a>(
    opening: &'a str,
    params: &mut impl Iterator<Item = &'a str>,
    depth: usize,
) -> Result<Layer, ParseError> {
    if depth > MAX_DEPTH {
        return Err(ParseError::new(
            opening,
            format!("layers nest at most {MAX_DEPTH} deep"),
        ));
    }
    let kind = match opening {
        "l-image" => Kind::Image,
        "l-text" => Kind::Text,
        "l-solid" => Kind::Solid,
        "l-video" | "l-subtitles" | "l-audio" => {
            return Err(ParseError::new(
                opening,
                "video, audio and subtitle layers apply to videos, not images",
            ));
        }
        _ => {
            return Err(ParseError::new(
                opening,
                "expected l-image, l-text or l-solid",
            ));
        }
    };
    let mut draft = Draft::default();
    let mut closed = false;
    while let Some(param) = params.next() {
        if param == "l-end" {
            closed = true;
            break;
        }
        if param.starts_with("l-") {
            let nested = parse_layer(param, params, depth + 1)?;
            draft.step.layers.push(nested);
            continue;
        }
        draft.take(kind, param)?;
    }
    if !closed {
        return Err(ParseError::new(
            opening,
            "a layer must be closed with l-end",
        ));
    }
    draft.finish(kind, opening)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Image,
    Text,
    Solid,
}

/// A layer while its parameters are read.
#[derive(Default)]
struct Draft {
    /// The input as written: its text, and whether it came base64-encoded (`ie-`).
    input: Option<(String, bool)>,
    position: Position,
    text: TextStyle,
    alpha: Option<u8>,
    step: Step,
}

impl Draft {
    fn take(&mut self, kind: Kind, param: &str) -> Result<(), ParseError> {
        let bad = |reason: &str| ParseError::new(param, reason);
        let (key, value) = param.split_once('-').unwrap_or((param, ""));
        if TEXT_KEYS.contains(&key) && kind != Kind::Text {
            return Err(bad("applies to text layers (l-text) only"));
        }
        let text = &mut self.text;
        match key {
            "i" | "ie" if self.input.is_some() => return Err(bad("a layer has one input")),
            "i" => self.input = Some((value.to_string(), false)),
            "ie" => self.input = Some((decode_base64(value).ok_or_else(|| bad(BASE64))?, true)),
            "lx" => self.position.x = Some(offset(value).map_err(bad)?),
            "ly" => self.position.y = Some(offset(value).map_err(bad)?),
            "lxc" => self.position.x_center = Some(offset(value).map_err(bad)?),
            "lyc" => self.position.y_center = Some(offset(value).map_err(bad)?),
            "lfo" => self.position.focus = Some(place(value).ok_or_else(|| bad(PLACE))?),
            "lap" => self.position.anchor = Some(place(value).ok_or_else(|| bad(PLACE))?),
            "lm" if value == "normal" => {}
            "lm" => return Err(bad("only the normal layer mode is supported")),
            "lso" | "leo" | "ldu" => return Err(bad("layer timing applies to videos")),
            "al" => {
                self.alpha =
                    Some(params::int(value, 1, 9).ok_or_else(|| bad("expected 1 to 9"))? as u8)
            }
            "fs" => text.size = Some(font_size(value).map_err(bad)?),
            "ff" => text.family = Some(family(value).map_err(bad)?),
            "co" => {
                text.color = Some(
                    Color::parse(value)
                        .ok_or_else(|| bad("expected a colour: RRGGBB, RRGGBBAA or a name"))?,
                )
            }
            "tg" => {
                text.typography = typography(value)
                    .ok_or_else(|| bad("expected b, i, strikethrough or several joined by _"))?
            }
            "ia" => {
                text.align =
                    Some(align(value).ok_or_else(|| bad("expected left, center or right"))?)
            }
            "pa" => {
                text.padding = Some(padding(value).ok_or_else(|| {
                    bad("expected pixels: one, two, three or four values joined by _")
                })?)
            }
            "lh" => {
                text.line_height = Some(
                    params::int(value, 1, 2000)
                        .ok_or_else(|| bad("expected a line height in pixels"))?,
                )
            }
            _ => params::apply_param(&mut self.step, param)?,
        }
        Ok(())
    }

    fn finish(self, kind: Kind, opening: &str) -> Result<Layer, ParseError> {
        let bad = |reason: &str| ParseError::new(opening, reason);
        let mut step = self.step;
        let source = match (kind, self.input) {
            (Kind::Image, Some((input, _))) if input == CANVAS => solid(&mut step, opening)?,
            (Kind::Solid, _) => solid(&mut step, opening)?,
            (Kind::Image, Some((input, encoded))) => Source::Image(
                layer_path(&input, encoded)
                    .ok_or_else(|| bad("i-: expected a Media Library path, @@ for /"))?,
            ),
            (Kind::Text, Some((text, _))) => {
                if text.is_empty() || text.chars().count() > MAX_TEXT_CHARS {
                    return Err(bad(&format!(
                        "a text layer's text is 1 to {MAX_TEXT_CHARS} characters"
                    )));
                }
                if text.chars().any(|c| c.is_control() && c != '\n') {
                    return Err(bad("a text layer's text has no control characters"));
                }
                Source::Text(text)
            }
            (_, None) => {
                return Err(bad(
                    "a layer needs its input: i-<path or text> or ie-<base64>",
                ));
            }
        };
        if step.original.is_some() || step.default_image.is_some() || step.format.is_some() {
            return Err(bad(
                "orig, di and f apply to the whole image, not to a layer",
            ));
        }
        Ok(Layer {
            source,
            position: self.position,
            text: self.text,
            alpha: self.alpha,
            step,
        })
    }
}

/// A solid block's colour, taken out of its step's `bg-`.
fn solid(step: &mut Step, opening: &str) -> Result<Source, ParseError> {
    match step.background.take() {
        Some(color) => Ok(Source::Solid(color)),
        None => Err(ParseError::new(
            opening,
            "a solid-colour layer needs bg-<colour>",
        )),
    }
}

/// Keys only text layers have.
const TEXT_KEYS: &[&str] = &["fs", "ff", "co", "tg", "ia", "pa", "lh"];

const BASE64: &str = "ie-: expected base64 (standard or URL-safe)";
const PLACE: &str =
    "expected center, top, left, bottom, right, top_left, top_right, bottom_left or bottom_right";

fn decode_base64(value: &str) -> Option<String> {
    let engines = [
        base64::engine::general_purpose::STANDARD,
        base64::engine::general_purpose::URL_SAFE,
    ];
    let trimmed = value.trim_end_matches('=');
    engines
        .iter()
        .find_map(|engine| {
            let padded = format!("{trimmed}{}", "=".repeat((4 - trimmed.len() % 4) % 4));
            engine.decode(padded).ok()
        })
        .and_then(|bytes| String::from_utf8(bytes).ok())
}

/// `logos@@brand.png` (from `i-`) or `logos/brand.png` (from `ie-`) → `logos/brand.png`,
/// checked like any path.
fn layer_path(value: &str, encoded: bool) -> Option<String> {
    if encoded {
        params::checked_media_path(value)
    } else {
        params::media_path_from_url(value)
    }
}

fn offset(value: &str) -> Result<Offset, &'static str> {
    let (from_far_edge, rest) = match value.strip_prefix('N') {
        Some(rest) => (true, rest),
        None => (false, value),
    };
    let value = params::coordinate(rest).map_err(
        |_| "expected pixels (N for from the far edge) or an expression such as bw_mul_0.1",
    )?;
    Ok(Offset {
        from_far_edge,
        value,
    })
}

fn place(value: &str) -> Option<Focus> {
    params::focus(value).filter(|f| !matches!(f, Focus::Auto | Focus::Custom(_)))
}

fn font_size(value: &str) -> Result<Coordinate, &'static str> {
    match params::coordinate(value) {
        Ok(Coordinate::Pixels(px)) if (1..=2000).contains(&px) => Ok(Coordinate::Pixels(px)),
        Ok(Coordinate::Expr(e)) => Ok(Coordinate::Expr(e)),
        _ => Err("expected a font size of 1 to 2000 pixels or an expression such as bh_div_10"),
    }
}

fn family(value: &str) -> Result<FontFamily, &'static str> {
    if let Some(font) = BuiltinFont::from_name(value) {
        return Ok(FontFamily::Builtin(font));
    }
    let lower = value.to_ascii_lowercase();
    if lower.ends_with(".ttf") || lower.ends_with(".otf") {
        return layer_path(value, false)
            .map(FontFamily::Library)
            .ok_or("expected a font file path in the Media Library, @@ for /");
    }
    Err(
        "expected DejaVuSans (sans-serif), DejaVuSerif (serif), DejaVuSansMono (monospace) or a .ttf/.otf path in the Media Library",
    )
}

fn typography(value: &str) -> Option<Typography> {
    let mut out = Typography::default();
    for part in value.split('_') {
        match part {
            "b" => out.bold = true,
            "i" => out.italic = true,
            "strikethrough" => out.strikethrough = true,
            _ => return None,
        }
    }
    Some(out)
}

fn align(value: &str) -> Option<Align> {
    Some(match value {
        "left" => Align::Left,
        "center" => Align::Center,
        "right" => Align::Right,
        _ => return None,
    })
}

/// CSS order: one value for all sides, two for vertical_horizontal, three for
/// top_horizontal_bottom, four for top_right_bottom_left.
fn padding(value: &str) -> Option<[u32; 4]> {
    let parts: Vec<u32> = value
        .split('_')
        .map(|p| params::int(p, 0, 1000))
        .collect::<Option<_>>()?;
    Some(match parts.as_slice() {
        [all] => [*all; 4],
        [v, h] => [*v, *h, *v, *h],
        [t, h, b] => [*t, *h, *b, *h],
        [t, r, b, l] => [*t, *r, *b, *l],
        _ => return None,
    })
}

/// Counts the layers of `steps`, nested ones included.
pub(crate) fn count(layers: &[Layer]) -> usize {
    layers.iter().map(|l| 1 + count(&l.step.layers)).sum()
}

impl Layer {
    /// The Media Library files this layer and its nested layers read: images and fonts.
    pub fn inputs(&self, out: &mut Vec<String>) {
        if let Source::Image(path) = &self.source {
            out.push(path.clone());
        }
        if let Some(FontFamily::Library(path)) = &self.text.family {
            out.push(path.clone());
        }
        for nested in &self.step.layers {
            nested.inputs(out);
        }
    }
}

impl fmt::Display for Layer {
    /// The canonical text: opening, input, position, text keys, the layer's step, `l-end`.
    /// Text and paths with characters that would not read back are written `ie-` (base64).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let encoded = |text: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text);
        match &self.source {
            Source::Image(path) if plain_text(path, true) => {
                write!(f, "l-image,i-{}", path.replace('/', "@@"))?
            }
            Source::Image(path) => write!(f, "l-image,ie-{}", encoded(path))?,
            Source::Text(text) if plain_text(text, false) => write!(f, "l-text,i-{text}")?,
            Source::Text(text) => write!(f, "l-text,ie-{}", encoded(text))?,
            Source::Solid(color) => write!(f, "l-solid,bg-{color}")?,
        }
        let p = &self.position;
        for (key, value) in [
            ("lx", p.x),
            ("ly", p.y),
            ("lxc", p.x_center),
            ("lyc", p.y_center),
        ] {
            if let Some(offset) = value {
                let sign = if offset.from_far_edge { "N" } else { "" };
                write!(f, ",{key}-{sign}{}", offset.value)?;
            }
        }
        if let Some(focus) = p.focus {
            write!(f, ",lfo-{focus}")?;
        }
        if let Some(anchor) = p.anchor {
            write!(f, ",lap-{anchor}")?;
        }
        if let Some(alpha) = self.alpha {
            write!(f, ",al-{alpha}")?;
        }
        write_text_style(f, &self.text)?;
        let step = self.step.canonical();
        if !step.is_empty() {
            write!(f, ",{step}")?;
        }
        f.write_str(",l-end")
    }
}

fn write_text_style(f: &mut fmt::Formatter<'_>, t: &TextStyle) -> fmt::Result {
    if let Some(size) = t.size {
        write!(f, ",fs-{size}")?;
    }
    match &t.family {
        Some(FontFamily::Builtin(font)) => write!(f, ",ff-{}", font.name())?,
        Some(FontFamily::Library(path)) => write!(f, ",ff-{}", path.replace('/', "@@"))?,
        None => {}
    }
    if let Some(color) = t.color {
        write!(f, ",co-{color}")?;
    }
    let Typography {
        bold,
        italic,
        strikethrough,
    } = t.typography;
    let styles: Vec<&str> = [(bold, "b"), (italic, "i"), (strikethrough, "strikethrough")]
        .iter()
        .filter_map(|(on, name)| on.then_some(*name))
        .collect();
    if !styles.is_empty() {
        write!(f, ",tg-{}", styles.join("_"))?;
    }
    if let Some(align) = t.align {
        let name = match align {
            Align::Left => "left",
            Align::Center => "center",
            Align::Right => "right",
        };
        write!(f, ",ia-{name}")?;
    }
    if let Some([top, right, bottom, left]) = t.padding {
        write!(f, ",pa-{top}_{right}_{bottom}_{left}")?;
    }
    if let Some(height) = t.line_height {
        write!(f, ",lh-{height}")?;
    }
    Ok(())
}

/// Whether `text` reads back unchanged after `i-`: no separators, no `@@` ambiguity.
fn plain_text(text: &str, is_path: bool) -> bool {
    text.chars().all(|c| {
        c.is_ascii_alphanumeric()
            || matches!(c, '.' | '_' | ' ')
            || (c == '-')
            || (is_path && c == '/')
    }) && !text.contains("@@")
        && !text.contains("l-")
}
