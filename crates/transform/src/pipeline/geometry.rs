//! Geometry of one step: from the requested width, height, aspect ratio, dpr, crop and crop mode
//! to a [`Plan`] — which part of the current image to take, what size to scale it to, and what
//! canvas to place it on. Pure arithmetic, tested against ImageKit's documented examples.

use crate::{Coordinate, Crop, CropMode, Dimension, Focus, Step};

/// A rectangle in pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rect {
    pub x: u32,
    pub y: u32,
    pub width: u32,
    pub height: u32,
}

impl Rect {
    /// This rectangle in an image of size `to` when it was measured in one of size `from`.
    pub fn rescaled(self, from: (u32, u32), to: (u32, u32)) -> Rect {
        if from == to {
            return self;
        }
        let (sx, sy) = (to.0 as f64 / from.0 as f64, to.1 as f64 / from.1 as f64);
        let x = ((self.x as f64 * sx).round() as u32).min(to.0 - 1);
        let y = ((self.y as f64 * sy).round() as u32).min(to.1 - 1);
        Rect {
            x,
            y,
            width: ((self.width as f64 * sx).round() as u32).clamp(1, to.0 - x),
            height: ((self.height as f64 * sy).round() as u32).clamp(1, to.1 - y),
        }
    }
}

/// What one step does to the geometry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    /// The region of the current image to use.
    pub source: Rect,
    /// The size that region is scaled to.
    pub scaled: (u32, u32),
    /// The final canvas and where the scaled region goes on it (when padding).
    pub canvas: Option<((u32, u32), (u32, u32))>,
}

/// Why a step's geometry is impossible.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeometryError(pub String);

/// The requested box (width, height) in pixels after fractions, aspect ratio and dpr.
pub fn requested_box(step: &Step, width: u32, height: u32) -> (Option<u32>, Option<u32>) {
    let resolve = |d: Option<Dimension>, full: u32| {
        d.and_then(|d| match d {
            Dimension::Pixels(px) => Some(px as f64),
            Dimension::Fraction(f) => Some(f as f64 * full as f64),
            // Unresolved (no client hint): as if no size were asked for.
            Dimension::Auto => None,
            // Resolved before the step runs (`Step::with_sizes_resolved`).
            Dimension::Expr(_) => None,
        })
    };
    let mut w = resolve(step.width, width);
    let mut h = resolve(step.height, height);
    if let Some((aw, ah)) = step.aspect_ratio {
        match (w, h) {
            (Some(w_), None) => h = Some(w_ * ah as f64 / aw as f64),
            (None, Some(h_)) => w = Some(h_ * aw as f64 / ah as f64),
            _ => {}
        }
    }
    let dpr = step.dpr.map_or(1.0, |d| d.factor()) as f64;
    let round = |v: Option<f64>| v.map(|v| ((v * dpr).round() as u32).max(1));
    (round(w), round(h))
}

/// Plans one step on an image of `width`×`height`.
pub fn plan(step: &Step, width: u32, height: u32) -> Result<Plan, GeometryError> {
    let full = Rect {
        x: 0,
        y: 0,
        width,
        height,
    };
    let (bw, bh) = requested_box(step, width, height);
    if let Some(mode) = step.crop_mode {
        return plan_crop_mode(step, mode, full, bw, bh);
    }
    let (w, h) = match (bw, bh) {
        (None, None) => {
            return Ok(Plan {
                source: full,
                scaled: (width, height),
                canvas: None,
            });
        }
        // One side given: the other follows the aspect ratio. `at_max` never enlarges, with one
        // side as with two (the others scale to the side given, as ImageKit does).
        (Some(w), None) if step.crop == Some(Crop::AtMax) && w > width => {
            return Ok(scale_to(full, width, height));
        }
        (None, Some(h)) if step.crop == Some(Crop::AtMax) && h > height => {
            return Ok(scale_to(full, width, height));
        }
        (Some(w), None) => return Ok(scale_to(full, w, ratio_height(w, width, height))),
        (None, Some(h)) => return Ok(scale_to(full, ratio_width(h, width, height), h)),
        (Some(w), Some(h)) => (w, h),
    };
    Ok(match step.crop.unwrap_or(Crop::MaintainRatio) {
        Crop::Force => scale_to(full, w, h),
        Crop::AtMax | Crop::AtMaxEnlarge => {
            let enlarge = step.crop == Some(Crop::AtMaxEnlarge);
            let scale = (w as f64 / width as f64).min(h as f64 / height as f64);
            let scale = if enlarge { scale } else { scale.min(1.0) };
            scale_to(full, scaled(width, scale), scaled(height, scale))
        }
        Crop::AtLeast => {
            let scale = (w as f64 / width as f64).max(h as f64 / height as f64);
            scale_to(full, scaled(width, scale), scaled(height, scale))
        }
        Crop::MaintainRatio => {
            // Cover the box, then cut it out of the scaled image around the focus.
            let scale = (w as f64 / width as f64).max(h as f64 / height as f64);
            let mut source_w = ((w as f64 / scale).round() as u32).clamp(1, width);
            let mut source_h = ((h as f64 / scale).round() as u32).clamp(1, height);
            let region = custom_region(step, width, height);
            if let (Some(region), Some(_)) = (region, step.zoom) {
                // Zoomed: the smallest cut of the box's shape that holds the region.
                let scale = (region.width as f64 / w as f64).max(region.height as f64 / h as f64);
                source_w = ((w as f64 * scale).round() as u32).clamp(1, source_w);
                source_h = ((h as f64 * scale).round() as u32).clamp(1, source_h);
            }
            let (x, y) = match region {
                Some(region) => centred_on(region, source_w, source_h, width, height),
                None => place(step.focus, width - source_w, height - source_h),
            };
            Plan {
                source: Rect {
                    x,
                    y,
                    width: source_w,
                    height: source_h,
                },
                scaled: (w, h),
                canvas: None,
            }
        }
    })
}

fn plan_crop_mode(
    step: &Step,
    mode: CropMode,
    full: Rect,
    bw: Option<u32>,
    bh: Option<u32>,
) -> Result<Plan, GeometryError> {
    let (width, height) = (full.width, full.height);
    // An extract around custom coordinates takes the region's size unless a size is given.
    let region = custom_region(step, width, height)
        .filter(|_| matches!(mode, CropMode::Extract | CropMode::PadExtract));
    let w = bw.or(region.map(|r| r.width)).unwrap_or(width);
    let h = bh.or(region.map(|r| r.height)).unwrap_or(height);
    match mode {
        CropMode::PadResize => {
            let scale = (w as f64 / width as f64).min(h as f64 / height as f64);
            let (sw, sh) = (scaled(width, scale).min(w), scaled(height, scale).min(h));
            // fo-left puts the image left (all padding right), and so on.
            let offset = place(step.focus, w - sw, h - sh);
            Ok(Plan {
                source: full,
                scaled: (sw, sh),
                canvas: Some(((w, h), offset)),
            })
        }
        CropMode::Extract | CropMode::PadExtract => {
            let (cw, ch) = (w.min(width), h.min(height));
            let (x, y) = extract_origin(step, width, height, cw, ch)?;
            let source = Rect {
                x,
                y,
                width: cw,
                height: ch,
            };
            let canvas = (mode == CropMode::PadExtract && (w > width || h > height))
                .then(|| ((w, h), ((w - cw) / 2, (h - ch) / 2)));
            Ok(Plan {
                source,
                scaled: (cw, ch),
                canvas,
            })
        }
    }
}

/// Top-left corner of an extract: `x,y`, else `xc,yc` (centre), else the focus position.
fn extract_origin(
    step: &Step,
    width: u32,
    height: u32,
    cw: u32,
    ch: u32,
) -> Result<(u32, u32), GeometryError> {
    let out_of_bounds = || {
        GeometryError(format!(
            "the {cw}x{ch} region falls outside the {width}x{height} image"
        ))
    };
    if step.x.is_some() || step.y.is_some() {
        let (x, y) = (
            step.x.map_or(0, Coordinate::pixels),
            step.y.map_or(0, Coordinate::pixels),
        );
        if x + cw > width || y + ch > height {
            return Err(out_of_bounds());
        }
        return Ok((x, y));
    }
    if step.x_center.is_some() || step.y_center.is_some() {
        let xc = step.x_center.map_or(width / 2, Coordinate::pixels);
        let yc = step.y_center.map_or(height / 2, Coordinate::pixels);
        let (x, y) = (xc.checked_sub(cw / 2), yc.checked_sub(ch / 2));
        return match (x, y) {
            (Some(x), Some(y)) if x + cw <= width && y + ch <= height => Ok((x, y)),
            _ => Err(out_of_bounds()),
        };
    }
    if let Some(region) = custom_region(step, width, height) {
        return Ok(centred_on(region, cw, ch, width, height));
    }
    Ok(place(step.focus, width - cw, height - ch))
}

/// The custom coordinates `fo-custom` names, zoomed by `z-` around their centre (in by more
/// than 1, out by less), within the image.
fn custom_region(step: &Step, width: u32, height: u32) -> Option<Rect> {
    let Some(Focus::Custom(Some([x, y, w, h]))) = step.focus else {
        return None;
    };
    let zoom = step.zoom.unwrap_or(1.0) as f64;
    let (cx, cy) = (x as f64 + w as f64 / 2.0, y as f64 + h as f64 / 2.0);
    let (zw, zh) = (w as f64 / zoom, h as f64 / zoom);
    let left = (cx - zw / 2.0)
        .round()
        .clamp(0.0, width.saturating_sub(1) as f64) as u32;
    let top = (cy - zh / 2.0)
        .round()
        .clamp(0.0, height.saturating_sub(1) as f64) as u32;
    Some(Rect {
        x: left,
        y: top,
        width: (zw.round() as u32).clamp(1, width - left),
        height: (zh.round() as u32).clamp(1, height - top),
    })
}

/// The top-left corner of a `cw`x`ch` cut centred on `region`, moved inside the image.
fn centred_on(region: Rect, cw: u32, ch: u32, width: u32, height: u32) -> (u32, u32) {
    let centre = |start: u32, len: u32, cut: u32, limit: u32| {
        let wanted = start as i64 + len as i64 / 2 - cut as i64 / 2;
        wanted.clamp(0, limit.saturating_sub(cut) as i64) as u32
    };
    (
        centre(region.x, region.width, cw, width),
        centre(region.y, region.height, ch, height),
    )
}

/// Where a region goes given `slack` room, by focus (centre by default; `auto` is resolved
/// before planning, by content).
pub fn place(focus: Option<Focus>, slack_x: u32, slack_y: u32) -> (u32, u32) {
    let (fx, fy) = match focus.unwrap_or(Focus::Center) {
        Focus::Center | Focus::Auto | Focus::Custom(_) => (1, 1),
        Focus::Top => (1, 0),
        Focus::Bottom => (1, 2),
        Focus::Left => (0, 1),
        Focus::Right => (2, 1),
        Focus::TopLeft => (0, 0),
        Focus::TopRight => (2, 0),
        Focus::BottomLeft => (0, 2),
        Focus::BottomRight => (2, 2),
    };
    (slack_x * fx / 2, slack_y * fy / 2)
}

fn scale_to(source: Rect, w: u32, h: u32) -> Plan {
    Plan {
        source,
        scaled: (w.max(1), h.max(1)),
        canvas: None,
    }
}

fn scaled(v: u32, scale: f64) -> u32 {
    ((v as f64 * scale).round() as u32).max(1)
}

fn ratio_height(w: u32, width: u32, height: u32) -> u32 {
    ((w as f64 * height as f64 / width as f64).round() as u32).max(1)
}

fn ratio_width(h: u32, width: u32, height: u32) -> u32 {
    ((h as f64 * width as f64 / height as f64).round() as u32).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Transformation;

    fn plan_of(text: &str, w: u32, h: u32) -> Plan {
        let t = Transformation::parse(text, &|_| None).unwrap();
        plan(&t.steps[0], w, h).unwrap()
    }

    #[test]
    fn imagekit_documented_examples() {
        // c-at_max on a 300x200 box never enlarges; doc example: 148x200 from a portrait image.
        assert_eq!(
            plan_of("w-300,h-200,c-at_max", 740, 1000).scaled,
            (148, 200)
        );
        // c-at_least covers the box without cropping; doc example: 300x405.
        assert_eq!(
            plan_of("w-300,h-200,c-at_least", 740, 1000).scaled,
            (300, 405)
        );
        // cm-pad_extract pads a smaller image to the box: 600x600 at 700x700 → 700x700 canvas.
        let p = plan_of("w-700,h-700,cm-pad_extract", 600, 600);
        assert_eq!(p.canvas, Some(((700, 700), (50, 50))));
    }

    #[test]
    fn resize_modes() {
        assert_eq!(plan_of("w-400", 1600, 1200).scaled, (400, 300));
        assert_eq!(plan_of("h-300", 1600, 1200).scaled, (400, 300));
        assert_eq!(plan_of("w-0.5", 1600, 1200).scaled, (800, 600));
        assert_eq!(plan_of("w-400,ar-1-1", 1600, 1200).scaled, (400, 400));
        assert_eq!(plan_of("w-200,dpr-2", 1600, 1200).scaled, (400, 300));
        assert_eq!(
            plan_of("w-300,h-300,c-force", 1600, 1200).scaled,
            (300, 300)
        );
        assert_eq!(
            plan_of("w-3000,h-3000,c-at_max", 1600, 1200).scaled,
            (1600, 1200)
        );
        assert_eq!(
            plan_of("w-3200,h-3200,c-at_max_enlarge", 1600, 1200).scaled,
            (3200, 2400)
        );
        // Every crop mode with one side given: the other side follows the aspect ratio, and
        // at_max never enlarges (it used to with one side).
        for (text, expected) in [
            ("w-3000,c-at_max", (1600, 1200)),
            ("h-3000,c-at_max", (1600, 1200)),
            ("w-800,c-at_max", (800, 600)),
            ("h-600,c-at_max", (800, 600)),
            ("w-3200,c-at_max_enlarge", (3200, 2400)),
            ("w-3200,c-at_least", (3200, 2400)),
            ("h-600,c-at_least", (800, 600)),
            ("w-800,c-force", (800, 600)),
            ("h-2400,c-force", (3200, 2400)),
            ("w-800,c-maintain_ratio", (800, 600)),
            ("h-2400,c-maintain_ratio", (3200, 2400)),
        ] {
            assert_eq!(plan_of(text, 1600, 1200).scaled, expected, "{text}");
        }
        // maintain_ratio: cover and cut around the focus.
        let p = plan_of("w-300,h-300", 1600, 1200);
        assert_eq!(
            (p.scaled, p.source),
            (
                (300, 300),
                Rect {
                    x: 200,
                    y: 0,
                    width: 1200,
                    height: 1200
                }
            )
        );
        let p = plan_of("w-300,h-300,fo-left", 1600, 1200);
        assert_eq!(p.source.x, 0);
        let p = plan_of("w-300,h-300,fo-bottom_right", 1600, 1200);
        assert_eq!(p.source.x, 400);
    }

    #[test]
    fn custom_focus_and_zoom() {
        // A 100x100 region at (600, 100) of a 1000x500 image.
        let region = "fo-custom_600_100_100_100";
        let plan = plan_of(&format!("w-200,h-200,{region}"), 1000, 500);
        assert_eq!(
            (plan.source.x, plan.source.y),
            (400, 0),
            "centred on the region"
        );
        assert_eq!((plan.source.width, plan.source.height), (500, 500));
        let zoomed = plan_of(&format!("w-200,h-200,{region},z-1"), 1000, 500);
        assert_eq!(
            (zoomed.source.x, zoomed.source.y, zoomed.source.width),
            (600, 100, 100),
            "z: just the region"
        );
        let closer = plan_of(&format!("w-200,h-200,{region},z-2"), 1000, 500);
        assert_eq!((closer.source.x, closer.source.width), (625, 50));
        let extract = plan_of(&format!("cm-extract,{region}"), 1000, 500);
        assert_eq!(
            (extract.source.x, extract.source.y, extract.scaled),
            (600, 100, (100, 100))
        );
        let sized = plan_of(&format!("cm-extract,w-300,h-300,{region}"), 1000, 500);
        assert_eq!((sized.source.x, sized.source.y), (500, 0), "kept inside");
        // Unresolved (no coordinates on the file): the centre.
        let centre = plan_of("w-200,h-200,fo-custom", 1000, 500);
        assert_eq!(centre.source.x, 250);
    }

    #[test]
    fn pad_and_extract() {
        let p = plan_of("w-300,h-300,cm-pad_resize", 1600, 1200);
        assert_eq!(
            (p.scaled, p.canvas),
            ((300, 225), Some(((300, 300), (0, 37))))
        );
        let p = plan_of("w-300,h-300,cm-pad_resize,fo-top", 1600, 1200);
        assert_eq!(p.canvas, Some(((300, 300), (0, 0))));
        let p = plan_of("w-100,h-50,cm-extract,x-10,y-20", 1600, 1200);
        assert_eq!(
            p.source,
            Rect {
                x: 10,
                y: 20,
                width: 100,
                height: 50
            }
        );
        assert_eq!(p.scaled, (100, 50));
        let p = plan_of("w-100,h-100,cm-extract,xc-100,yc-100", 1600, 1200);
        assert_eq!(
            p.source,
            Rect {
                x: 50,
                y: 50,
                width: 100,
                height: 100
            }
        );
        let t = Transformation::parse("w-100,h-100,cm-extract,x-1550", &|_| None).unwrap();
        assert!(plan(&t.steps[0], 1600, 1200).is_err(), "out of bounds");
    }
}
