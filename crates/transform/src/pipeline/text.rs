//! Text layers drawn to pixels: a font (built in, or a Media Library file), lines wrapped to the
//! box's width, aligned, padded, on a background. Glyphs are rasterised with `ab_glyph`;
//! characters the font lacks fall back to DejaVu Sans, which covers Latin, Greek, Cyrillic and
//! many symbols. No shaping: scripts that need it (Arabic, Indic) come out unjoined.

use super::glyph_raster::{self, Placed};
use super::{Budget, ProcessError};
use crate::Color;
use crate::layers::{Align, BuiltinFont, FontFamily, TextStyle};
use ab_glyph::{Font, FontRef, FontVec, PxScale, ScaleFont};
use image::{Rgba, RgbaImage};

/// The largest font file a text layer reads: the biggest real fonts (CJK families) are about
/// 20 MiB.
const MAX_FONT_BYTES: usize = 32 << 20;

/// Font size when `fs-` is not given, in pixels.
pub const DEFAULT_SIZE: u32 = 24;

static SANS: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
static SANS_BOLD: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans-Bold.ttf");
static SANS_ITALIC: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans-Oblique.ttf");
static SANS_BOLD_ITALIC: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans-BoldOblique.ttf");
static SERIF: &[u8] = include_bytes!("../../assets/fonts/DejaVuSerif.ttf");
static SERIF_BOLD: &[u8] = include_bytes!("../../assets/fonts/DejaVuSerif-Bold.ttf");
static SERIF_ITALIC: &[u8] = include_bytes!("../../assets/fonts/DejaVuSerif-Italic.ttf");
static MONO: &[u8] = include_bytes!("../../assets/fonts/DejaVuSansMono.ttf");
static MONO_BOLD: &[u8] = include_bytes!("../../assets/fonts/DejaVuSansMono-Bold.ttf");

/// What a text box is made of, sizes already in pixels.
pub struct TextBox<'a> {
    pub text: &'a str,
    pub style: &'a TextStyle,
    pub size: u32,
    /// The box's width (`w-`): lines wrap to fit inside it, less the padding.
    pub width: Option<u32>,
    pub background: Option<Color>,
    /// A Media Library font's bytes, when `ff-` names one.
    pub font_file: Option<&'a [u8]>,
}

/// A font in use: built in (borrowed) or from a file (owned).
enum LoadedFont {
    Builtin(Box<FontRef<'static>>),
    File(FontVec),
}

fn builtin(bytes: &'static [u8]) -> FontRef<'static> {
    FontRef::try_from_slice(bytes).expect("built-in fonts are valid")
}

/// The font `style` asks for; a file that is no font is a clear error.
fn load(style: &TextStyle, font_file: Option<&[u8]>) -> Result<LoadedFont, ProcessError> {
    let bold = style.typography.bold;
    let italic = style.typography.italic;
    let family = match &style.family {
        Some(FontFamily::Library(path)) => {
            let bytes = font_file.ok_or_else(|| ProcessError::LayerInput {
                path: path.clone(),
                reason: "not found".into(),
            })?;
            if bytes.len() > MAX_FONT_BYTES {
                return Err(ProcessError::LayerInput {
                    path: path.clone(),
                    reason: format!(
                        "a font file may be at most {} MiB, this one is {} bytes",
                        MAX_FONT_BYTES >> 20,
                        bytes.len()
                    ),
                });
            }
            let font =
                FontVec::try_from_vec(bytes.to_vec()).map_err(|_| ProcessError::LayerInput {
                    path: path.clone(),
                    reason: "not a TrueType or OpenType font".into(),
                })?;
            return Ok(LoadedFont::File(font));
        }
        Some(FontFamily::Builtin(font)) => *font,
        None => BuiltinFont::Sans,
    };
    let bytes = match (family, bold, italic) {
        (BuiltinFont::Sans, false, false) => SANS,
        (BuiltinFont::Sans, true, false) => SANS_BOLD,
        (BuiltinFont::Sans, false, true) => SANS_ITALIC,
        (BuiltinFont::Sans, true, true) => SANS_BOLD_ITALIC,
        (BuiltinFont::Serif, false, true) => SERIF_ITALIC,
        (BuiltinFont::Serif, true, _) => SERIF_BOLD,
        (BuiltinFont::Serif, false, false) => SERIF,
        (BuiltinFont::Mono, true, _) => MONO_BOLD,
        (BuiltinFont::Mono, false, _) => MONO,
    };
    Ok(LoadedFont::Builtin(Box::new(builtin(bytes))))
}

/// Glyphs may cover this many times the text box (plus [`GLYPH_AREA_SLACK`]) in all: real
/// fonts stay near 1 (glyphs sit side by side), a hostile one whose every glyph fills the box
/// would ask for one box per character.
const GLYPH_AREA_FACTOR: u64 = 8;

/// Pixels of glyph coverage any text box may use, however small.
const GLYPH_AREA_SLACK: u64 = 1 << 20;

/// Draws `text_box`, refusing a box larger than `max_side` on either side, glyphs that would
/// cover far more than the box, and work past `budget`.
pub fn render(
    text_box: &TextBox,
    max_side: u32,
    budget: &Budget,
) -> Result<RgbaImage, ProcessError> {
    let fallback = builtin(SANS);
    match load(text_box.style, text_box.font_file)? {
        LoadedFont::Builtin(font) => {
            render_with(font.as_ref(), &fallback, text_box, max_side, budget)
        }
        LoadedFont::File(font) => render_with(&font, &fallback, text_box, max_side, budget),
    }
}

fn render_with<F: Font>(
    font: &F,
    fallback: &FontRef<'static>,
    text_box: &TextBox,
    max_side: u32,
    budget: &Budget,
) -> Result<RgbaImage, ProcessError> {
    let font = font.as_scaled(em_scale(font, text_box.size));
    let fallback_font = fallback.as_scaled(em_scale(fallback, text_box.size));
    let metrics = Metrics::of(&font, text_box.style.line_height);
    let [pad_top, pad_right, pad_bottom, pad_left] = text_box.style.padding.unwrap_or([0; 4]);
    let inner_width = text_box
        .width
        .map(|w| w.saturating_sub(pad_left + pad_right).max(1) as f32);
    let glyphs = Glyphs {
        font: &font,
        fallback: &fallback_font,
    };
    let lines = wrap(text_box.text, inner_width, &glyphs);
    let widest = lines
        .iter()
        .map(|l| glyphs.width(l))
        .fold(0.0_f32, f32::max);
    let box_width = match text_box.width {
        Some(w) => w,
        None => widest.ceil() as u32 + pad_left + pad_right,
    };
    let box_height =
        (metrics.line_height * lines.len() as f32).ceil() as u32 + pad_top + pad_bottom;
    if box_width > max_side || box_height > max_side {
        return Err(ProcessError::TooLarge {
            width: box_width,
            height: box_height,
            limit: max_side,
        });
    }
    // The box, and one glyph's coverage buffer (at most the box's size, 4 bytes a pixel).
    let box_bytes = super::rgba_bytes(box_width.max(1), box_height.max(1));
    budget.check_memory(2 * box_bytes, "drawing text")?;
    let background = text_box.background.unwrap_or(Color::TRANSPARENT);
    let mut canvas = RgbaImage::from_pixel(
        box_width.max(1),
        box_height.max(1),
        Rgba([background.r, background.g, background.b, background.a]),
    );
    let color = text_box.style.color.unwrap_or(Color::BLACK);
    let inner = (box_width - pad_left - pad_right.min(box_width - pad_left)) as f32;
    let canvas_size = canvas.dimensions();
    let mut placed = Vec::new();
    let mut strikes = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let width = glyphs.width(line);
        let x = pad_left as f32
            + match text_box.style.align.unwrap_or(Align::Left) {
                Align::Left => 0.0,
                Align::Center => ((inner - width) / 2.0).max(0.0),
                Align::Right => (inner - width).max(0.0),
            };
        let baseline = pad_top as f32 + metrics.line_height * i as f32 + metrics.ascent_offset;
        glyphs.place_line(line, x, baseline, canvas_size, &mut placed);
        if text_box.style.typography.strikethrough {
            let thickness = (text_box.size as f32 / 14.0).max(1.0);
            let y = baseline - metrics.ascent * 0.3;
            strikes.push((x, y - thickness / 2.0, width, thickness));
        }
        budget.check("laying out text")?;
    }
    check_glyph_area(&placed, canvas_size, text_box.style)?;
    for glyph in &placed {
        glyph.draw(budget, |x, y, coverage| {
            blend(&mut canvas, x as i64, y as i64, color, coverage)
        })?;
    }
    for (x, y, width, thickness) in strikes {
        fill_rect(&mut canvas, x, y, width, thickness, color);
    }
    Ok(canvas)
}

/// Refuses glyphs whose visible parts would cover more than [`GLYPH_AREA_FACTOR`] boxes: each
/// glyph is already clipped to the box, so this bounds the work of drawing them all.
fn check_glyph_area(
    placed: &[Placed],
    canvas: (u32, u32),
    style: &TextStyle,
) -> Result<(), ProcessError> {
    let covered: u64 = placed.iter().map(|g| g.clip.area()).sum();
    let allowed = GLYPH_AREA_FACTOR * canvas.0 as u64 * canvas.1 as u64 + GLYPH_AREA_SLACK;
    if covered <= allowed {
        return Ok(());
    }
    let font = match &style.family {
        Some(FontFamily::Library(path)) => path.clone(),
        _ => "the built-in font".to_string(),
    };
    Err(ProcessError::LayerInput {
        path: font,
        reason: format!(
            "its glyphs would cover {covered} pixels, more than {allowed} for a {}x{} text box \
             (glyphs far larger than their font size)",
            canvas.0, canvas.1
        ),
    })
}

/// The scale at which `font`'s em is `size` pixels, as `font-size` means in CSS (ab_glyph's
/// scale is the ascent-to-descent height instead).
fn em_scale<F: Font>(font: &F, size: u32) -> PxScale {
    let em = font.units_per_em().unwrap_or(2048.0);
    let height = font.height_unscaled();
    PxScale::from(size as f32 * height / em)
}

/// Vertical measures of a line.
struct Metrics {
    ascent: f32,
    /// From a line's top to its baseline (the line's extra height split above and below).
    ascent_offset: f32,
    line_height: f32,
}

impl Metrics {
    fn of<F: Font>(font: &ab_glyph::PxScaleFont<&F>, line_height: Option<u32>) -> Metrics {
        let natural = font.ascent() - font.descent();
        let line_height = line_height.map_or(natural + font.line_gap(), |lh| lh as f32);
        Metrics {
            ascent: font.ascent(),
            ascent_offset: font.ascent() + (line_height - natural) / 2.0,
            line_height,
        }
    }
}

/// A font with its fallback, for measuring and drawing.
struct Glyphs<'a, F: Font> {
    font: &'a ab_glyph::PxScaleFont<&'a F>,
    fallback: &'a ab_glyph::PxScaleFont<&'a FontRef<'static>>,
}

impl<F: Font> Glyphs<'_, F> {
    /// Whether `c` comes from the fallback (the chosen font lacks it, the fallback has it).
    fn falls_back(&self, c: char) -> bool {
        self.font.glyph_id(c).0 == 0 && self.fallback.glyph_id(c).0 != 0
    }

    /// Advance widths of `line`'s characters, kerning within one font included.
    fn advances(&self, line: &str) -> Vec<(char, f32)> {
        let mut out: Vec<(char, f32)> = Vec::with_capacity(line.len());
        let mut previous: Option<(ab_glyph::GlyphId, bool)> = None;
        for c in line.chars() {
            let fallback = self.falls_back(c);
            let (id, advance) = if fallback {
                let id = self.fallback.glyph_id(c);
                (id, self.fallback.h_advance(id))
            } else {
                let id = self.font.glyph_id(c);
                (id, self.font.h_advance(id))
            };
            if let (Some((prev, was_fallback)), Some(last)) = (previous, out.last_mut())
                && was_fallback == fallback
            {
                last.1 += if fallback {
                    self.fallback.kern(prev, id)
                } else {
                    self.font.kern(prev, id)
                };
            }
            out.push((c, advance));
            previous = Some((id, fallback));
        }
        out
    }

    fn width(&self, line: &str) -> f32 {
        self.advances(line).iter().map(|(_, a)| a).sum()
    }

    /// Outlines `line`'s glyphs from (`x`, `baseline`) on, each clipped to a canvas of
    /// `canvas` size, into `placed`.
    fn place_line(
        &self,
        line: &str,
        x: f32,
        baseline: f32,
        canvas: (u32, u32),
        placed: &mut Vec<Placed>,
    ) {
        let mut pen = x;
        for (c, advance) in self.advances(line) {
            let position = ab_glyph::point(pen, baseline);
            let glyph = if self.falls_back(c) {
                let glyph = self
                    .fallback
                    .glyph_id(c)
                    .with_scale_and_position(self.fallback.scale, position);
                glyph_raster::place(self.fallback.font, glyph, canvas)
            } else {
                let glyph = self
                    .font
                    .glyph_id(c)
                    .with_scale_and_position(self.font.scale, position);
                glyph_raster::place(self.font.font, glyph, canvas)
            };
            placed.extend(glyph);
            pen += advance;
        }
    }
}

/// Breaks `text` into lines: at each `\n`, and where a line would be wider than `max_width`
/// (between words, or inside a word longer than the whole width).
fn wrap<F: Font>(text: &str, max_width: Option<f32>, glyphs: &Glyphs<F>) -> Vec<String> {
    let mut lines = Vec::new();
    for paragraph in text.split('\n') {
        let Some(max) = max_width else {
            lines.push(paragraph.to_string());
            continue;
        };
        let mut line = String::new();
        for word in paragraph.split(' ') {
            let candidate = if line.is_empty() {
                word.to_string()
            } else {
                format!("{line} {word}")
            };
            if glyphs.width(&candidate) <= max || line.is_empty() && glyphs.width(word) <= max {
                line = candidate;
                continue;
            }
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            // A word wider than the box is cut where it must be.
            for c in word.chars() {
                line.push(c);
                if glyphs.width(&line) > max && line.chars().count() > 1 {
                    line.pop();
                    lines.push(std::mem::take(&mut line));
                    line.push(c);
                }
            }
        }
        lines.push(line);
    }
    lines
}

/// Puts `color` over the pixel at (`x`, `y`) with `coverage` (0–1) of its alpha.
fn blend(canvas: &mut RgbaImage, x: i64, y: i64, color: Color, coverage: f32) {
    if x < 0 || y < 0 || x >= canvas.width() as i64 || y >= canvas.height() as i64 {
        return;
    }
    let source_alpha = coverage.clamp(0.0, 1.0) * color.a as f32 / 255.0;
    let pixel = canvas.get_pixel_mut(x as u32, y as u32);
    let [r, g, b, a] = pixel.0;
    let dest_alpha = a as f32 / 255.0;
    let out_alpha = source_alpha + dest_alpha * (1.0 - source_alpha);
    if out_alpha <= 0.0 {
        return;
    }
    let mix = |s: u8, d: u8| {
        ((s as f32 * source_alpha + d as f32 * dest_alpha * (1.0 - source_alpha)) / out_alpha)
            .round() as u8
    };
    *pixel = Rgba([
        mix(color.r, r),
        mix(color.g, g),
        mix(color.b, b),
        (out_alpha * 255.0).round() as u8,
    ]);
}

fn fill_rect(canvas: &mut RgbaImage, x: f32, y: f32, width: f32, height: f32, color: Color) {
    let (x0, y0) = (x.floor() as i64, y.floor() as i64);
    let (x1, y1) = ((x + width).ceil() as i64, (y + height).ceil() as i64);
    for py in y0..y1 {
        for px in x0..x1 {
            blend(canvas, px, py, color, 1.0);
        }
    }
}
