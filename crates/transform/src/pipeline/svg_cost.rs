//! What drawing an SVG will cost, estimated from its tree before a pixel is drawn.
//!
//! resvg cannot be interrupted, and a few hundred bytes of SVG can ask for minutes of work (a
//! large `feMorphology` radius over `feTurbulence` noise, thousands of shapes that each cover
//! the canvas). The estimate counts "pixel operations": every filled or stroked shape costs its
//! area on the canvas, every isolated group (opacity, mask, clip, filter) its layer's area, and
//! every filter primitive its region's area times what it does per pixel (a morphology radius
//! visits `(2r+1)²` neighbours, turbulence sums its octaves, a convolution its kernel). Areas
//! are clipped to the canvas, so only what resvg really draws is counted. A drawing whose
//! estimate would not fit the transformation's time budget is refused.

use super::ProcessError;
use resvg::tiny_skia::{NonZeroRect, Rect, Transform};
use resvg::usvg::filter::Kind;
use resvg::usvg::{Group, Node, Tree};
use std::time::Duration;

/// Pixel operations per second the estimate assumes. Measured on this machine kind: a dilation
/// of radius 24 over 1000x1000 (2.9 billion operations by this count) draws in 4.5 s, radius 30
/// in 6.5 s; ten octaves of turbulence over 1500x1500 in 1 s. At this rate a drawing the
/// estimate accepts takes at most about half its budget.
const OPERATIONS_PER_SECOND: f64 = 300e6;

/// A group drawn on a layer of its own (opacity, mask, clip path, filter): the layer is
/// allocated, cleared, drawn into and composited back, several passes per pixel (measured: 150
/// half-transparent full-canvas rectangles at 4000x4000 take over 20 s, 50 take 12.5 s).
const LAYER_PER_PIXEL: f64 = 10.0;

/// What any node costs besides its pixels (building and walking its path).
const NODE_OVERHEAD: f64 = 1000.0;

/// Refuses drawing `tree` onto a `width`x`height` canvas when the estimated cost exceeds what
/// `budget` allows.
pub fn check(
    tree: &Tree,
    (width, height): (u32, u32),
    budget: Duration,
) -> Result<(), ProcessError> {
    let size = tree.size();
    let scale = Transform::from_scale(width as f32 / size.width(), height as f32 / size.height());
    let canvas = Canvas {
        area: width as f64 * height as f64,
        width: width as f64,
        height: height as f64,
        scale,
    };
    let estimated = canvas.group(tree.root());
    let allowed = budget.as_secs_f64() * OPERATIONS_PER_SECOND;
    if estimated > allowed {
        return Err(ProcessError::TooCostly {
            estimated: (estimated / 1e6).ceil() as u64,
            limit: (allowed / 1e6) as u64,
        });
    }
    Ok(())
}

/// The canvas the SVG is drawn onto, and the scale from the SVG's units to its pixels.
struct Canvas {
    area: f64,
    width: f64,
    height: f64,
    scale: Transform,
}

impl Canvas {
    /// Cost of a group: its children, its subroots (clip paths, masks, patterns), its layer and
    /// its filters.
    fn group(&self, group: &Group) -> f64 {
        let mut cost = 0.0;
        for child in group.children() {
            cost += NODE_OVERHEAD + self.node(child);
            child.subroots(|subroot| cost += self.group(subroot));
        }
        if group.should_isolate() {
            let layer = self.nonzero_area(group.abs_layer_bounding_box(), group.abs_transform());
            cost += LAYER_PER_PIXEL * layer;
        }
        let scale = self.pixel_scale(group.abs_transform());
        for filter in group.filters() {
            let region = self.nonzero_area(filter.rect(), group.abs_transform());
            for primitive in filter.primitives() {
                cost += region * self.per_pixel(primitive.kind(), scale);
            }
        }
        cost
    }

    fn node(&self, node: &Node) -> f64 {
        match node {
            Node::Group(group) => self.group(group),
            Node::Path(path) => {
                let fill = path
                    .fill()
                    .map_or(0.0, |_| self.area_of(path.abs_bounding_box()));
                let stroke = path
                    .stroke()
                    .map_or(0.0, |_| self.area_of(path.abs_stroke_bounding_box()));
                fill + stroke
            }
            Node::Image(image) => self.area_of(image.abs_bounding_box()),
            Node::Text(text) => self.group(text.flattened()),
        }
    }

    /// Operations per pixel of one filter primitive, `scale` being pixels per SVG unit.
    fn per_pixel(&self, kind: &Kind, (sx, sy): (f64, f64)) -> f64 {
        match kind {
            Kind::Morphology(m) => {
                let rx = (m.radius_x().get() as f64 * sx).round().min(self.width);
                let ry = (m.radius_y().get() as f64 * sy).round().min(self.height);
                (2.0 * rx + 1.0) * (2.0 * ry + 1.0)
            }
            Kind::ConvolveMatrix(c) => c.matrix().columns() as f64 * c.matrix().rows() as f64,
            Kind::Turbulence(t) => 10.0 * t.num_octaves().max(1) as f64,
            Kind::DiffuseLighting(_) | Kind::SpecularLighting(_) => 40.0,
            Kind::GaussianBlur(_) | Kind::DropShadow(_) => 12.0,
            Kind::DisplacementMap(_) => 6.0,
            Kind::Blend(_)
            | Kind::ColorMatrix(_)
            | Kind::ComponentTransfer(_)
            | Kind::Composite(_)
            | Kind::Flood(_)
            | Kind::Image(_)
            | Kind::Merge(_)
            | Kind::Offset(_)
            | Kind::Tile(_) => 2.0,
        }
    }

    /// Pixels per SVG unit along each axis under `transform`.
    fn pixel_scale(&self, transform: Transform) -> (f64, f64) {
        let (sx, sy) = transform.post_concat(self.scale).get_scale();
        (sx.abs() as f64, sy.abs() as f64)
    }

    /// The area of `rect` (already in absolute SVG units) on the canvas, clipped to it.
    fn area_of(&self, rect: Rect) -> f64 {
        rect.transform(self.scale).map_or(0.0, |r| self.clipped(r))
    }

    /// The area of `rect` (in the units of `transform`) on the canvas, clipped to it.
    fn nonzero_area(&self, rect: NonZeroRect, transform: Transform) -> f64 {
        rect.transform(transform.post_concat(self.scale))
            .map_or(0.0, |r| self.clipped(r.to_rect()))
    }

    fn clipped(&self, r: Rect) -> f64 {
        let w = (r.right().min(self.width as f32) - r.left().max(0.0)).max(0.0) as f64;
        let h = (r.bottom().min(self.height as f32) - r.top().max(0.0)).max(0.0) as f64;
        (w * h).min(self.area)
    }
}
