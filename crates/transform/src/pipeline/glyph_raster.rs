//! Glyphs rasterised clipped to the canvas they land on. A font file is hostile input: a glyph's
//! outline may be any size (a ±16,000-unit square in a 16-unit em is 1,000 em wide), and
//! rasterising it whole, as `ab_glyph`'s own `draw` does, allocates a buffer of its full bounds.
//! Here only the part of a glyph on the canvas is rasterised: the outline's curves are flattened
//! into a bounded number of lines, each line clipped to the visible rectangle, and the coverage
//! buffer is the size of that rectangle. The work is checked against the transformation's budget
//! while it runs.

use super::{Budget, ProcessError};
use ab_glyph::{Font, Glyph, OutlineCurve, Point, PxScaleFactor, ScaleFont, point};
use ab_glyph_rasterizer::Rasterizer;

/// Lines a curve is flattened into at most: enough for a smooth edge on any glyph that fits a
/// canvas of `max_output_side`, and a bound on the work a hostile curve can ask for.
const MAX_LINES_PER_CURVE: usize = 64;

/// Lines drawn between two budget checks.
const LINES_PER_CHECK: usize = 4096;

/// The visible part of a glyph: a rectangle of the canvas, in whole pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Clip {
    pub x: u32,
    pub y: u32,
    pub width: u32,
    pub height: u32,
}

impl Clip {
    /// Pixels the glyph's coverage buffer holds.
    pub fn area(&self) -> u64 {
        self.width as u64 * self.height as u64
    }
}

/// A glyph ready to draw: its outline scaled and placed, and the part of the canvas it covers.
pub(super) struct Placed {
    curves: Vec<OutlineCurve>,
    scale: PxScaleFactor,
    position: Point,
    pub clip: Clip,
}

/// Outlines `glyph` of `font` (at the glyph's scale and position) and clips its pixel bounds to
/// a canvas of `canvas` size; `None` for a glyph with no outline or none of it on the canvas.
pub(super) fn place<F: Font>(font: &F, glyph: Glyph, canvas: (u32, u32)) -> Option<Placed> {
    let outline = font.outline(glyph.id)?;
    let scale = font.as_scaled(glyph.scale).scale_factor();
    let bounds = outline.px_bounds(scale, glyph.position);
    let clip = clip_to(bounds.min, bounds.max, canvas)?;
    Some(Placed {
        curves: outline.curves,
        scale,
        position: glyph.position,
        clip,
    })
}

/// The whole-pixel rectangle of `min`..`max` that lies on a canvas of `canvas` size.
fn clip_to(min: Point, max: Point, canvas: (u32, u32)) -> Option<Clip> {
    if ![min.x, min.y, max.x, max.y].iter().all(|v| v.is_finite()) {
        return None;
    }
    let x0 = min.x.floor().max(0.0);
    let y0 = min.y.floor().max(0.0);
    let x1 = max.x.ceil().min(canvas.0 as f32);
    let y1 = max.y.ceil().min(canvas.1 as f32);
    if !(x1 > x0 && y1 > y0) {
        return None;
    }
    Some(Clip {
        x: x0 as u32,
        y: y0 as u32,
        width: (x1 - x0) as u32,
        height: (y1 - y0) as u32,
    })
}

impl Placed {
    /// Rasterises the visible part and calls `pixel(x, y, coverage)` for each of its pixels, in
    /// canvas coordinates.
    pub fn draw(
        &self,
        budget: &Budget,
        mut pixel: impl FnMut(u32, u32, f32),
    ) -> Result<(), ProcessError> {
        let Clip {
            x,
            y,
            width,
            height,
        } = self.clip;
        // Two spare columns on the right take what lies beyond the clip (clamped to its edge):
        // the coverage of a row sums to zero across the row, so nothing leaks into the next row.
        let mut raster = Rasterizer::new(width as usize + 2, height as usize);
        let origin = point(x as f32, y as f32);
        let to_clip = |p: &Point| {
            point(
                p.x * self.scale.horizontal + self.position.x - origin.x,
                -p.y * self.scale.vertical + self.position.y - origin.y,
            )
        };
        let mut lines = 0usize;
        for curve in &self.curves {
            let points = flatten(curve, &to_clip);
            for pair in points.windows(2) {
                clipped_line(&mut raster, pair[0], pair[1], width as f32);
                lines += 1;
                if lines.is_multiple_of(LINES_PER_CHECK) {
                    budget.check("drawing text")?;
                }
            }
        }
        raster.for_each_pixel_2d(|gx, gy, coverage| {
            if gx < width {
                pixel(x + gx, y + gy, coverage);
            }
        });
        budget.check("drawing text")
    }
}

/// The points of `curve` (mapped by `map`) as a polyline of at most [`MAX_LINES_PER_CURVE`]
/// lines, fine enough that the flattening error stays under about a third of a pixel.
fn flatten(curve: &OutlineCurve, map: &impl Fn(&Point) -> Point) -> Vec<Point> {
    match curve {
        OutlineCurve::Line(p0, p1) => vec![map(p0), map(p1)],
        OutlineCurve::Quad(p0, p1, p2) => {
            let (p0, p1, p2) = (map(p0), map(p1), map(p2));
            let n = segments(deviation(p0, p1, p2));
            (0..=n)
                .map(|i| {
                    let t = i as f32 / n as f32;
                    lerp(t, lerp(t, p0, p1), lerp(t, p1, p2))
                })
                .collect()
        }
        OutlineCurve::Cubic(p0, p1, p2, p3) => {
            let (p0, p1, p2, p3) = (map(p0), map(p1), map(p2), map(p3));
            let n = segments(deviation(p0, p1, p2).max(deviation(p1, p2, p3)));
            (0..=n)
                .map(|i| {
                    let t = i as f32 / n as f32;
                    let (a, b, c) = (lerp(t, p0, p1), lerp(t, p1, p2), lerp(t, p2, p3));
                    lerp(t, lerp(t, a, b), lerp(t, b, c))
                })
                .collect()
        }
    }
}

/// How far a curve's middle control point bends away from its chord (squared, in pixels).
fn deviation(p0: Point, p1: Point, p2: Point) -> f32 {
    let dx = p0.x - 2.0 * p1.x + p2.x;
    let dy = p0.y - 2.0 * p1.y + p2.y;
    dx * dx + dy * dy
}

/// Lines for a curve of squared deviation `dev_sq` (the rule `ab_glyph_rasterizer` uses for
/// quadratics), at most [`MAX_LINES_PER_CURVE`].
fn segments(dev_sq: f32) -> usize {
    let n = 1.0 + (3.0 * dev_sq).sqrt().sqrt().floor();
    if n.is_finite() {
        (n as usize).clamp(1, MAX_LINES_PER_CURVE)
    } else {
        MAX_LINES_PER_CURVE
    }
}

fn lerp(t: f32, a: Point, b: Point) -> Point {
    point(a.x + (b.x - a.x) * t, a.y + (b.y - a.y) * t)
}

/// Draws the line `a`–`b` on a raster whose visible width is `width`: the parts left of 0 or
/// right of `width` are moved onto those edges (same rows, so the same winding to their right),
/// and rows outside the raster are dropped by the rasteriser itself.
fn clipped_line(raster: &mut Rasterizer, a: Point, b: Point, width: f32) {
    if !(a.x.is_finite() && a.y.is_finite() && b.x.is_finite() && b.y.is_finite()) {
        return;
    }
    let mut pieces = [(a, b), (b, b), (b, b)];
    let mut count = 1;
    for edge in [0.0, width] {
        let mut split = [(a, a); 3];
        let mut n = 0;
        for &(p, q) in &pieces[..count] {
            if (p.x - edge) * (q.x - edge) < 0.0 {
                let t = (edge - p.x) / (q.x - p.x);
                let m = point(edge, p.y + (q.y - p.y) * t);
                split[n] = (p, m);
                split[n + 1] = (m, q);
                n += 2;
            } else {
                split[n] = (p, q);
                n += 1;
            }
        }
        pieces = split;
        count = n;
    }
    for &(p, q) in &pieces[..count] {
        let clamp = |p: Point| point(p.x.clamp(0.0, width), p.y);
        raster.draw_line(clamp(p), clamp(q));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn budget() -> Budget {
        Budget::start(Duration::from_secs(10), Default::default())
    }

    /// A closed square from (x0, y0) to (x1, y1), in canvas coordinates.
    fn square(x0: f32, y0: f32, x1: f32, y1: f32) -> Placed {
        let c = |x: f32, y: f32| point(x, -y); // outline space is y-up
        let corners = [c(x0, y0), c(x1, y0), c(x1, y1), c(x0, y1)];
        let curves = (0..4)
            .map(|i| OutlineCurve::Line(corners[i], corners[(i + 1) % 4]))
            .collect();
        let clip = clip_to(point(x0, y0), point(x1, y1), (10, 10)).unwrap();
        Placed {
            curves,
            scale: PxScaleFactor {
                horizontal: 1.0,
                vertical: 1.0,
            },
            position: point(0.0, 0.0),
            clip,
        }
    }

    fn coverage(placed: &Placed) -> Vec<Vec<f32>> {
        let mut grid = vec![vec![0.0; 10]; 10];
        placed
            .draw(&budget(), |x, y, c| grid[y as usize][x as usize] = c)
            .unwrap();
        grid
    }

    #[test]
    fn a_glyph_far_larger_than_the_canvas_covers_exactly_the_canvas() {
        let huge = square(-1.0e9, -1.0e9, 1.0e9, 1.0e9);
        assert_eq!(
            huge.clip,
            Clip {
                x: 0,
                y: 0,
                width: 10,
                height: 10
            }
        );
        for row in coverage(&huge) {
            for c in row {
                assert!((c - 1.0).abs() < 1e-3, "full coverage, got {c}");
            }
        }
    }

    #[test]
    fn a_glyph_across_an_edge_keeps_its_inside_part_only() {
        let glyph = square(-5.0, 2.0, 4.0, 6.0); // columns 0..4, rows 2..6 visible
        let grid = coverage(&glyph);
        for (y, row) in grid.iter().enumerate() {
            for (x, c) in row.iter().enumerate() {
                let inside = x < 4 && (2..6).contains(&y);
                let expected = if inside { 1.0 } else { 0.0 };
                assert!((c - expected).abs() < 1e-3, "({x}, {y}): {c}");
            }
        }
    }

    #[test]
    fn a_glyph_off_the_canvas_is_not_drawn() {
        assert_eq!(clip_to(point(20.0, 0.0), point(30.0, 5.0), (10, 10)), None);
        assert_eq!(
            clip_to(point(f32::NAN, 0.0), point(3.0, 5.0), (10, 10)),
            None
        );
    }

    #[test]
    fn a_curve_is_flattened_into_a_bounded_number_of_lines() {
        let wild = OutlineCurve::Cubic(
            point(0.0, 0.0),
            point(1.0e12, -1.0e12),
            point(-1.0e12, 1.0e12),
            point(1.0, 1.0),
        );
        assert_eq!(flatten(&wild, &|p| *p).len(), MAX_LINES_PER_CURVE + 1);
        let straightish = OutlineCurve::Quad(point(0.0, 0.0), point(1.0, 0.0), point(2.0, 0.0));
        assert_eq!(flatten(&straightish, &|p| *p).len(), 2);
    }
}
