//! The table of step parameters: the one place a parameter is defined — its key, how its value
//! is read into a [`Step`], how it prints in the canonical text, and the pipeline pass that
//! applies it. Adding a parameter is a field on [`Step`] and a row here.
//!
//! Rows are in canonical order, and passes run in that order: those before the resize (`t`),
//! then the resize and crop plan (which reads the geometry rows), then those after it. Output
//! settings (`q`, `f`, `pr`, `lo`, `md`) are read by the encoder, input choices (`pg`, `orig`,
//! `di`) before decoding. Layer keys (`lx`, `fs`…) belong to [`crate::layers`].

use crate::effects;
use crate::params::{self as read, Dimension, Dpr};
use crate::pipeline::{Budget, ProcessError, ops};
use crate::{Color, Step};
use image::DynamicImage;

/// One step parameter.
pub(crate) struct Param {
    pub key: &'static str,
    /// Reads a value (empty for a bare key) into the step; the error says what was expected.
    pub read: fn(&mut Step, &str) -> Result<(), &'static str>,
    /// The value in canonical text (`Some("")` for a flag); `None` when unset.
    pub print: fn(&Step) -> Option<String>,
    pub pass: Pass,
}

/// Where the pipeline applies a parameter.
pub(crate) enum Pass {
    /// Read by the resize plan, the decoder or the encoder: no pass of its own.
    Planned,
    /// A pass over the pixels before the resize.
    BeforeResize(PassFn),
    /// A pass over the pixels after the resize.
    AfterResize(PassFn),
}

/// A pass: the image, the (resolved) step it belongs to, and the limits it works within.
pub(crate) type PassFn = fn(DynamicImage, &Step, &Limits) -> Result<DynamicImage, ProcessError>;

/// What a pass may use: the side limit and the time budget.
pub(crate) struct Limits<'a> {
    pub max_side: u32,
    pub budget: &'a Budget,
}

/// `Some(value)` as text, for `print`.
fn text<T: std::fmt::Display>(value: &Option<T>) -> Option<String> {
    value.as_ref().map(T::to_string)
}

fn flag(set: bool) -> Option<String> {
    set.then(String::new)
}

fn no_value(value: &str) -> Result<bool, &'static str> {
    read::flag(value).ok_or("a flag takes no value")
}

const BOOLEAN: &str = "expected true or false";
const ONE_TO_100: &str = "expected 1 to 100";

/// Every step parameter, in canonical order.
pub(crate) const PARAMS: &[Param] = &[
    Param {
        key: "w",
        read: |s, v| {
            s.width = Some(if v == "auto" {
                Dimension::Auto
            } else {
                read::size(v)?
            });
            Ok(())
        },
        print: |s| text(&s.width),
        pass: Pass::Planned,
    },
    Param {
        key: "h",
        read: |s, v| {
            s.height = Some(read::size(v)?);
            Ok(())
        },
        print: |s| text(&s.height),
        pass: Pass::Planned,
    },
    Param {
        key: "ar",
        read: |s, v| {
            s.aspect_ratio = Some(read::aspect_ratio(v).ok_or("expected ar-<w>-<h>, e.g. ar-4-3")?);
            Ok(())
        },
        print: |s| s.aspect_ratio.map(|(a, b)| format!("{a}-{b}")),
        pass: Pass::Planned,
    },
    Param {
        key: "c",
        read: |s, v| {
            s.crop = Some(
                read::crop(v)
                    .ok_or("expected maintain_ratio, force, at_max, at_max_enlarge or at_least")?,
            );
            Ok(())
        },
        print: |s| text(&s.crop),
        pass: Pass::Planned,
    },
    Param {
        key: "cm",
        read: |s, v| {
            s.crop_mode =
                Some(read::crop_mode(v).ok_or("expected pad_resize, extract or pad_extract")?);
            Ok(())
        },
        print: |s| text(&s.crop_mode),
        pass: Pass::Planned,
    },
    Param {
        key: "fo",
        read: |s, v| {
            s.focus = Some(read::focus(v).ok_or("expected center, top, left, bottom, right, top_left, top_right, bottom_left, bottom_right, auto or custom")?);
            Ok(())
        },
        print: |s| text(&s.focus),
        pass: Pass::Planned,
    },
    Param {
        key: "z",
        read: |s, v| {
            s.zoom =
                Some(read::number(v, 0.1, 10.0).ok_or("expected a zoom factor from 0.1 to 10")?);
            Ok(())
        },
        print: |s| text(&s.zoom),
        pass: Pass::Planned,
    },
    Param {
        key: "x",
        read: |s, v| {
            s.x = Some(read::coordinate(v)?);
            Ok(())
        },
        print: |s| text(&s.x),
        pass: Pass::Planned,
    },
    Param {
        key: "y",
        read: |s, v| {
            s.y = Some(read::coordinate(v)?);
            Ok(())
        },
        print: |s| text(&s.y),
        pass: Pass::Planned,
    },
    Param {
        key: "xc",
        read: |s, v| {
            s.x_center = Some(read::coordinate(v)?);
            Ok(())
        },
        print: |s| text(&s.x_center),
        pass: Pass::Planned,
    },
    Param {
        key: "yc",
        read: |s, v| {
            s.y_center = Some(read::coordinate(v)?);
            Ok(())
        },
        print: |s| text(&s.y_center),
        pass: Pass::Planned,
    },
    Param {
        key: "dpr",
        read: |s, v| {
            s.dpr = Some(if v == "auto" {
                Dpr::Auto
            } else {
                Dpr::Factor(
                    read::number(v, 0.1, 5.0).ok_or("expected a number from 0.1 to 5 or auto")?,
                )
            });
            Ok(())
        },
        print: |s| text(&s.dpr),
        pass: Pass::Planned,
    },
    Param {
        key: "bg",
        read: |s, v| {
            if v.starts_with("blurred") {
                s.blurred_background = Some(read::blurred(v).ok_or("expected blurred, blurred_<intensity 1-100 or auto>, blurred_<intensity>_<brightness -255 to 255, N for minus>")?);
                s.background = None;
            } else {
                s.background = Some(Color::parse(v).ok_or(
                    "expected RRGGBB, RRGGBBAA (AA = opacity 00-99), a colour name, or blurred",
                )?);
                s.blurred_background = None;
            }
            Ok(())
        },
        print: |s| text(&s.background).or_else(|| text(&s.blurred_background)),
        pass: Pass::Planned,
    },
    Param {
        key: "q",
        read: |s, v| {
            s.quality = Some(read::int(v, 1, 100).ok_or(ONE_TO_100)? as u8);
            Ok(())
        },
        print: |s| text(&s.quality),
        pass: Pass::Planned,
    },
    Param {
        key: "f",
        read: |s, v| {
            s.format =
                Some(read::format(v).ok_or("expected auto, jpg, png, webp, avif, gif or orig")?);
            Ok(())
        },
        print: |s| text(&s.format),
        pass: Pass::Planned,
    },
    Param {
        key: "pr",
        read: |s, v| {
            s.progressive = Some(read::boolean(v).ok_or(BOOLEAN)?);
            Ok(())
        },
        print: |s| text(&s.progressive),
        pass: Pass::Planned,
    },
    Param {
        key: "lo",
        read: |s, v| {
            s.lossless = Some(read::boolean(v).ok_or(BOOLEAN)?);
            Ok(())
        },
        print: |s| text(&s.lossless),
        pass: Pass::Planned,
    },
    Param {
        key: "md",
        read: |s, v| {
            s.metadata = Some(read::boolean(v).ok_or(BOOLEAN)?);
            Ok(())
        },
        print: |s| text(&s.metadata),
        pass: Pass::Planned,
    },
    Param {
        key: "pg",
        read: |s, v| {
            s.page =
                Some(read::int(v, 1, 100_000).ok_or("expected a frame or page number from 1")?);
            Ok(())
        },
        print: |s| text(&s.page),
        pass: Pass::Planned,
    },
    Param {
        key: "di",
        read: |s, v| {
            s.default_image =
                Some(read::default_image(v).ok_or("expected a Media Library path with @@ for /")?);
            Ok(())
        },
        print: |s| s.default_image.as_ref().map(|path| path.replace('/', "@@")),
        pass: Pass::Planned,
    },
    Param {
        key: "orig",
        read: |s, v| {
            s.original = Some(read::boolean(v).ok_or(BOOLEAN)?);
            Ok(())
        },
        print: |s| text(&s.original),
        pass: Pass::Planned,
    },
    Param {
        key: "t",
        read: |s, v| {
            s.trim = Some(read::trim(v).ok_or("expected true or a threshold 1 to 99")?);
            Ok(())
        },
        print: |s| text(&s.trim),
        pass: Pass::BeforeResize(|image, s, _| match s.trim {
            Some(t) => Ok(ops::trim(image, t)),
            None => Ok(image),
        }),
    },
    Param {
        key: "rt",
        read: |s, v| {
            s.rotation = Some(
                read::rotation(v)
                    .ok_or("expected degrees (0-359, N<deg> for counter-clockwise) or auto")?,
            );
            Ok(())
        },
        print: |s| text(&s.rotation),
        pass: Pass::AfterResize(|image, s, limits| match s.rotation {
            Some(crate::Rotation::Degrees(degrees)) => {
                let background = s.background.unwrap_or(Color::TRANSPARENT);
                ops::rotate(image, degrees, background, limits.max_side, limits.budget)
            }
            // `rt-auto` is the EXIF orientation, applied when decoding.
            _ => Ok(image),
        }),
    },
    Param {
        key: "fl",
        read: |s, v| {
            s.flip = Some(read::flip(v).ok_or("expected h, v, h_v or v_h")?);
            Ok(())
        },
        print: |s| text(&s.flip),
        pass: Pass::AfterResize(|image, s, _| Ok(ops::flip(image, s.flip))),
    },
    Param {
        key: "e-distort",
        read: |s, v| {
            s.distort = Some(effects::distort(v)?);
            Ok(())
        },
        print: |s| text(&s.distort),
        pass: Pass::AfterResize(|image, s, limits| match s.distort {
            Some(d) => crate::pipeline::effects::distort(image, d, limits.max_side, limits.budget),
            None => Ok(image),
        }),
    },
    Param {
        key: "bl",
        read: |s, v| {
            s.blur = Some(read::int(v, 1, 100).ok_or(ONE_TO_100)? as u8);
            Ok(())
        },
        print: |s| text(&s.blur),
        // A box-blur approximation: linear in pixels whatever the radius, checking the budget.
        pass: Pass::AfterResize(|image, s, limits| match s.blur {
            Some(b) => crate::pipeline::blur::gaussian(image, b as f32 / 2.0, limits.budget),
            None => Ok(image),
        }),
    },
    Param {
        key: "e-grayscale",
        read: |s, v| {
            s.grayscale = no_value(v)?;
            Ok(())
        },
        print: |s| flag(s.grayscale),
        pass: Pass::AfterResize(|image, s, _| {
            Ok(if s.grayscale {
                ops::grayscale(image)
            } else {
                image
            })
        }),
    },
    Param {
        key: "e-colorize",
        read: |s, v| {
            s.colorize = Some(effects::colorize(v)?);
            Ok(())
        },
        print: |s| text(&s.colorize),
        pass: Pass::AfterResize(|image, s, _| match s.colorize {
            Some(c) => Ok(crate::pipeline::effects::colorize(image, c)),
            None => Ok(image),
        }),
    },
    Param {
        key: "e-sharpen",
        read: |s, v| {
            s.sharpen = Some(if v.is_empty() {
                5
            } else {
                read::int(v, 1, 100).ok_or(ONE_TO_100)? as u8
            });
            Ok(())
        },
        print: |s| text(&s.sharpen),
        pass: Pass::AfterResize(|image, s, limits| match s.sharpen {
            Some(amount) => ops::unsharp_mask(
                image,
                0.5 + amount as f32 / 10.0,
                1.0,
                2.0 / 255.0,
                limits.budget,
            ),
            None => Ok(image),
        }),
    },
    Param {
        key: "e-usm",
        read: |s, v| {
            s.unsharp = Some(
                read::unsharp(v).ok_or("expected e-usm-<radius>-<sigma>-<amount>-<threshold>")?,
            );
            Ok(())
        },
        print: |s| text(&s.unsharp),
        pass: Pass::AfterResize(|image, s, limits| match s.unsharp {
            Some(usm) => {
                let sigma = if usm.radius > 0.0 {
                    usm.radius
                } else {
                    usm.sigma
                };
                ops::unsharp_mask(
                    image,
                    sigma.max(0.1),
                    usm.amount,
                    usm.threshold,
                    limits.budget,
                )
            }
            None => Ok(image),
        }),
    },
    Param {
        key: "e-contrast",
        read: |s, v| {
            s.contrast = no_value(v)?;
            Ok(())
        },
        print: |s| flag(s.contrast),
        pass: Pass::AfterResize(|image, s, _| {
            Ok(if s.contrast {
                ops::stretch_contrast(image)
            } else {
                image
            })
        }),
    },
    Param {
        key: "e-gradient",
        read: |s, v| {
            s.gradient = Some(effects::gradient(v)?);
            Ok(())
        },
        print: |s| text(&s.gradient),
        pass: Pass::AfterResize(|image, s, _| match s.gradient {
            Some(g) => Ok(crate::pipeline::effects::gradient(image, g)),
            None => Ok(image),
        }),
    },
    Param {
        key: "r",
        read: |s, v| {
            s.radius = Some(
                read::radius(v)
                    .ok_or("expected a radius in pixels, max, or four values joined by _")?,
            );
            Ok(())
        },
        print: |s| text(&s.radius),
        pass: Pass::AfterResize(|image, s, _| match s.radius {
            Some(r) => Ok(ops::round_corners(image, r)),
            None => Ok(image),
        }),
    },
    Param {
        key: "b",
        read: |s, v| {
            s.border = Some(read::border(v).ok_or("expected b-<width>_<RRGGBB>")?);
            Ok(())
        },
        print: |s| text(&s.border),
        pass: Pass::AfterResize(|image, s, limits| match s.border {
            Some(border) => ops::add_border(image, border.width, border.color, limits),
            None => Ok(image),
        }),
    },
    Param {
        key: "e-shadow",
        read: |s, v| {
            s.shadow = Some(effects::shadow(v)?);
            Ok(())
        },
        print: |s| text(&s.shadow),
        pass: Pass::AfterResize(|image, s, limits| match s.shadow {
            Some(sh) => {
                // The image, its shadow, the blurred shadow and the result.
                let bytes = 4 * ops::image_bytes(&image);
                limits.budget.check_memory(bytes, "e-shadow")?;
                crate::pipeline::effects::shadow(image, sh, limits.budget)
            }
            None => Ok(image),
        }),
    },
    Param {
        key: "o",
        read: |s, v| {
            s.opacity =
                Some(read::int(v, 0, 100).ok_or("expected an opacity from 0 to 100")? as u8);
            Ok(())
        },
        print: |s| text(&s.opacity),
        pass: Pass::AfterResize(|image, s, _| match s.opacity {
            Some(o) => Ok(ops::with_opacity(image, o)),
            None => Ok(image),
        }),
    },
];

/// The row whose key `param` is written with (`key-value`, or the bare key): the longest
/// matching key, so `e-sharpen` wins over `e`, `cm` over `c`, `dpr` over `di`.
pub(crate) fn row_of(param: &str) -> Option<(&'static Param, &str)> {
    PARAMS
        .iter()
        .filter_map(|row| {
            if param == row.key {
                return Some((row, ""));
            }
            let value = param.strip_prefix(row.key)?.strip_prefix('-')?;
            Some((row, value))
        })
        .max_by_key(|(row, _)| row.key.len())
}
