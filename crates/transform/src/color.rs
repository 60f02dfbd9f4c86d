//! Colours for `bg-` and `b-`: hex `RRGGBB`, `RGB`, `RRGGBBAA` where `AA` is ImageKit's opacity
//! 00–99 (not hex alpha), and lowercase CSS colour names.

use std::fmt;

/// An sRGB colour with alpha.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Color {
    pub r: u8,
    pub g: u8,
    pub b: u8,
    pub a: u8,
}

const NAMES: &[(&str, [u8; 3])] = &[
    ("black", [0, 0, 0]),
    ("white", [255, 255, 255]),
    ("red", [255, 0, 0]),
    ("green", [0, 128, 0]),
    ("blue", [0, 0, 255]),
    ("yellow", [255, 255, 0]),
    ("cyan", [0, 255, 255]),
    ("magenta", [255, 0, 255]),
    ("gray", [128, 128, 128]),
    ("grey", [128, 128, 128]),
    ("silver", [192, 192, 192]),
    ("maroon", [128, 0, 0]),
    ("olive", [128, 128, 0]),
    ("lime", [0, 255, 0]),
    ("aqua", [0, 255, 255]),
    ("teal", [0, 128, 128]),
    ("navy", [0, 0, 128]),
    ("fuchsia", [255, 0, 255]),
    ("purple", [128, 0, 128]),
    ("orange", [255, 165, 0]),
    ("pink", [255, 192, 203]),
    ("brown", [165, 42, 42]),
    ("gold", [255, 215, 0]),
    ("beige", [245, 245, 220]),
    ("ivory", [255, 255, 240]),
    ("lightgray", [211, 211, 211]),
    ("darkgray", [169, 169, 169]),
];

impl Color {
    pub const BLACK: Color = Color {
        r: 0,
        g: 0,
        b: 0,
        a: 255,
    };
    pub const TRANSPARENT: Color = Color {
        r: 0,
        g: 0,
        b: 0,
        a: 0,
    };

    /// Parses a `bg-`/`b-` colour value.
    pub fn parse(value: &str) -> Option<Color> {
        if let Some((_, [r, g, b])) = NAMES.iter().find(|(name, _)| *name == value) {
            return Some(Color {
                r: *r,
                g: *g,
                b: *b,
                a: 255,
            });
        }
        if !value.bytes().all(|c| c.is_ascii_hexdigit()) {
            return None;
        }
        let hex = |i: usize| u8::from_str_radix(&value[i..i + 2], 16).ok();
        match value.len() {
            3 => {
                let nibble = |i: usize| u8::from_str_radix(&value[i..=i], 16).ok().map(|v| v * 17);
                Some(Color {
                    r: nibble(0)?,
                    g: nibble(1)?,
                    b: nibble(2)?,
                    a: 255,
                })
            }
            6 => Some(Color {
                r: hex(0)?,
                g: hex(2)?,
                b: hex(4)?,
                a: 255,
            }),
            8 => {
                let opacity: u32 = value[6..8].parse().ok()?;
                let a = ((opacity * 255 + 49) / 99).min(255) as u8;
                Some(Color {
                    r: hex(0)?,
                    g: hex(2)?,
                    b: hex(4)?,
                    a,
                })
            }
            _ => None,
        }
    }
}

impl fmt::Display for Color {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02X}{:02X}{:02X}", self.r, self.g, self.b)?;
        if self.a != 255 {
            write!(f, "{:02}", (self.a as u32 * 99 + 127) / 255)?;
        }
        Ok(())
    }
}
