//! The effects that take options (`e-gradient`, `e-colorize`, `e-shadow`, `e-distort`): their
//! types, how their values are read, and their canonical text. Options are `key-value` parts
//! joined by `_` (`e-shadow-bl-5_st-60_x-N4`); the flag alone takes every default. Drawing them
//! is `pipeline::effects`.

use crate::Color;
use crate::params::int;
use std::fmt;

/// `e-gradient[-ld-<direction>_from-<colour>_to-<colour>_sp-<stop>]`: a linear gradient laid
/// over the image.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Gradient {
    /// Degrees, clockwise from "towards the top" (0); 180, towards the bottom, by default.
    pub direction: u16,
    /// Transparent white by default.
    pub from: Color,
    /// Black by default.
    pub to: Color,
    /// Where along the direction the `to` colour is reached: a fraction (0–1, 1 by default) or
    /// pixels.
    pub stop: Stop,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Stop {
    Fraction(f32),
    Pixels(u32),
}

/// `e-colorize[-co-<colour>_in-<0-100>]`: a tint of the colour over the image's tones.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Colorize {
    pub color: Color,
    pub intensity: u8,
}

/// `e-shadow[-bl-<0-15>_st-<0-100>_x-<N?0-100>_y-<N?0-100>]`: a shadow under the opaque parts of
/// a transparent image; offsets in percent of the image's size.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Shadow {
    pub blur: u8,
    pub strength: u8,
    pub x: i8,
    pub y: i8,
}

/// `e-distort-p-<x1>_<y1>_…_<x4>_<y4>` (the corners, clockwise from top-left, moved to these
/// pixels; `N` for negative) or `e-distort-a-<N?degrees>` (bent into an arc, up for positive).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Distort {
    Perspective([(i32, i32); 4]),
    Arc(i16),
}

const GRADIENT: &str = "expected e-gradient or e-gradient-ld-<degrees or top, bottom, left, right…>_from-<colour>_to-<colour>_sp-<0-1 or pixels>";
const COLORIZE: &str = "expected e-colorize or e-colorize-co-<colour>_in-<0-100>";
const SHADOW: &str = "expected e-shadow or e-shadow-bl-<0-15>_st-<0-100>_x-<N?0-100>_y-<N?0-100>";
const DISTORT: &str =
    "expected e-distort-p-<x1>_<y1>_<x2>_<y2>_<x3>_<y3>_<x4>_<y4> or e-distort-a-<N?1-359>";

/// The `key-value` parts of an effect's options.
fn parts(value: &str) -> Option<Vec<(&str, &str)>> {
    if value.is_empty() {
        return Some(Vec::new());
    }
    value.split('_').map(|p| p.split_once('-')).collect()
}

/// A whole number with `N` for minus.
fn signed(value: &str, max: u32) -> Option<i64> {
    match value.strip_prefix('N') {
        Some(rest) => int(rest, 0, max).map(|v| -(v as i64)),
        None => int(value, 0, max).map(i64::from),
    }
}

pub(crate) fn gradient(value: &str) -> Result<Gradient, &'static str> {
    let mut out = Gradient {
        direction: 180,
        from: Color {
            r: 255,
            g: 255,
            b: 255,
            a: 0,
        },
        to: Color::BLACK,
        stop: Stop::Fraction(1.0),
    };
    // Diagonal names hold the separator: read them as degrees first.
    let value = [
        ("top_left", "315"),
        ("top_right", "45"),
        ("bottom_left", "225"),
        ("bottom_right", "135"),
    ]
    .iter()
    .fold(value.to_string(), |text, (name, degrees)| {
        text.replace(&format!("ld-{name}"), &format!("ld-{degrees}"))
    });
    for (key, v) in parts(&value).ok_or(GRADIENT)? {
        match key {
            "ld" => out.direction = direction(v).ok_or(GRADIENT)?,
            "from" => out.from = Color::parse(v).ok_or(GRADIENT)?,
            "to" => out.to = Color::parse(v).ok_or(GRADIENT)?,
            "sp" if v.contains('.') || v == "1" => {
                let f: f32 = v.parse().map_err(|_| GRADIENT)?;
                if !(f > 0.0 && f <= 1.0) {
                    return Err(GRADIENT);
                }
                out.stop = Stop::Fraction(f);
            }
            "sp" => out.stop = Stop::Pixels(int(v, 1, 100_000).ok_or(GRADIENT)?),
            _ => return Err(GRADIENT),
        }
    }
    Ok(out)
}

fn direction(value: &str) -> Option<u16> {
    Some(match value {
        "top" => 0,
        "right" => 90,
        "bottom" => 180,
        "left" => 270,
        other => (signed(other, 359)?.rem_euclid(360)) as u16,
    })
}

pub(crate) fn colorize(value: &str) -> Result<Colorize, &'static str> {
    let mut out = Colorize {
        color: Color {
            r: 128,
            g: 128,
            b: 128,
            a: 255,
        },
        intensity: 100,
    };
    for (key, v) in parts(value).ok_or(COLORIZE)? {
        match key {
            "co" => out.color = Color::parse(v).ok_or(COLORIZE)?,
            "in" => out.intensity = int(v, 0, 100).ok_or(COLORIZE)? as u8,
            _ => return Err(COLORIZE),
        }
    }
    Ok(out)
}

pub(crate) fn shadow(value: &str) -> Result<Shadow, &'static str> {
    let mut out = Shadow {
        blur: 10,
        strength: 30,
        x: 2,
        y: 2,
    };
    for (key, v) in parts(value).ok_or(SHADOW)? {
        match key {
            "bl" => out.blur = int(v, 0, 15).ok_or(SHADOW)? as u8,
            "st" => out.strength = int(v, 0, 100).ok_or(SHADOW)? as u8,
            "x" => out.x = signed(v, 100).ok_or(SHADOW)? as i8,
            "y" => out.y = signed(v, 100).ok_or(SHADOW)? as i8,
            _ => return Err(SHADOW),
        }
    }
    Ok(out)
}

pub(crate) fn distort(value: &str) -> Result<Distort, &'static str> {
    if let Some(degrees) = value.strip_prefix("a-") {
        let degrees = signed(degrees, 359).filter(|d| *d != 0).ok_or(DISTORT)?;
        return Ok(Distort::Arc(degrees as i16));
    }
    let corners = value.strip_prefix("p-").ok_or(DISTORT)?;
    let numbers: Vec<i64> = corners
        .split('_')
        .map(|n| signed(n, 100_000))
        .collect::<Option<_>>()
        .ok_or(DISTORT)?;
    let [x1, y1, x2, y2, x3, y3, x4, y4] = numbers[..] else {
        return Err(DISTORT);
    };
    let point = |x: i64, y: i64| (x as i32, y as i32);
    Ok(Distort::Perspective([
        point(x1, y1),
        point(x2, y2),
        point(x3, y3),
        point(x4, y4),
    ]))
}

fn write_signed(f: &mut fmt::Formatter<'_>, value: i64) -> fmt::Result {
    if value < 0 {
        write!(f, "N{}", -value)
    } else {
        write!(f, "{value}")
    }
}

impl fmt::Display for Gradient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "ld-{}_from-{}_to-{}_sp-",
            self.direction, self.from, self.to
        )?;
        match self.stop {
            Stop::Fraction(fraction) if fraction >= 1.0 => f.write_str("1.0"),
            Stop::Fraction(fraction) => write!(f, "{fraction:?}"),
            Stop::Pixels(px) => write!(f, "{px}"),
        }
    }
}

impl fmt::Display for Colorize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "co-{}_in-{}", self.color, self.intensity)
    }
}

impl fmt::Display for Shadow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "bl-{}_st-{}_x-", self.blur, self.strength)?;
        write_signed(f, self.x as i64)?;
        f.write_str("_y-")?;
        write_signed(f, self.y as i64)
    }
}

impl fmt::Display for Distort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Distort::Arc(degrees) => {
                f.write_str("a-")?;
                write_signed(f, *degrees as i64)
            }
            Distort::Perspective(corners) => {
                f.write_str("p-")?;
                for (i, (x, y)) in corners.iter().enumerate() {
                    if i > 0 {
                        f.write_str("_")?;
                    }
                    write_signed(f, *x as i64)?;
                    f.write_str("_")?;
                    write_signed(f, *y as i64)?;
                }
                Ok(())
            }
        }
    }
}
