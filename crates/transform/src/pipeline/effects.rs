//! Drawing the effects that take options: a gradient laid over the image, a colour tint, a
//! shadow under a transparent image's opaque parts, and distortions (a perspective given by
//! four corners, an arc). Each is one pass over the output pixels; distortions sample the input
//! bilinearly, and the budget is checked every few rows.

use super::{Budget, ProcessError};
use crate::Color;
use crate::effects::{Colorize, Distort, Gradient, Shadow, Stop};
use image::{DynamicImage, Rgba, RgbaImage};

/// Rows between two budget checks in the per-pixel loops.
const ROWS_PER_CHECK: u32 = 64;

/// `e-gradient`: `from` at the edge the direction starts from, `to` at the stop point and
/// beyond, laid over the image.
pub fn gradient(image: DynamicImage, gradient: Gradient) -> DynamicImage {
    let mut rgba = image.into_rgba8();
    let (width, height) = (rgba.width() as f32, rgba.height() as f32);
    let angle = (gradient.direction as f32).to_radians();
    let (dx, dy) = (angle.sin(), -angle.cos());
    let projections =
        [(0.0, 0.0), (width, 0.0), (0.0, height), (width, height)].map(|(x, y)| x * dx + y * dy);
    let start = projections.iter().copied().fold(f32::INFINITY, f32::min);
    let end = projections
        .iter()
        .copied()
        .fold(f32::NEG_INFINITY, f32::max);
    let stop = match gradient.stop {
        Stop::Fraction(fraction) => (end - start) * fraction,
        Stop::Pixels(px) => px as f32,
    }
    .max(1.0);
    for (x, y, pixel) in rgba.enumerate_pixels_mut() {
        let along = (x as f32 + 0.5) * dx + (y as f32 + 0.5) * dy - start;
        let t = (along / stop).clamp(0.0, 1.0);
        let color = mix(gradient.from, gradient.to, t);
        *pixel = over(color, *pixel);
    }
    DynamicImage::ImageRgba8(rgba)
}

/// `e-colorize`: each pixel's lightness mapped from black through the colour to white, mixed
/// with the original by the intensity.
pub fn colorize(image: DynamicImage, colorize: Colorize) -> DynamicImage {
    let mut rgba = image.into_rgba8();
    let strength = colorize.intensity as f32 / 100.0;
    let tint = [colorize.color.r, colorize.color.g, colorize.color.b].map(f32::from);
    for pixel in rgba.pixels_mut() {
        let [r, g, b, a] = pixel.0.map(f32::from);
        let lightness = 0.299 * r + 0.587 * g + 0.114 * b;
        let tinted = tint.map(|c| {
            if lightness < 128.0 {
                c * lightness / 128.0
            } else {
                c + (255.0 - c) * (lightness - 128.0) / 127.0
            }
        });
        let blend = |orig: f32, t: f32| {
            (orig * (1.0 - strength) + t * strength)
                .round()
                .clamp(0.0, 255.0) as u8
        };
        *pixel = Rgba([
            blend(r, tinted[0]),
            blend(g, tinted[1]),
            blend(b, tinted[2]),
            a as u8,
        ]);
    }
    DynamicImage::ImageRgba8(rgba)
}

/// `e-shadow`: a black copy of the image's alpha, offset, blurred and at the strength's
/// opacity, under the image. Opaque images hide it, as ImageKit's does.
pub fn shadow(
    image: DynamicImage,
    shadow: Shadow,
    budget: &Budget,
) -> Result<DynamicImage, ProcessError> {
    let rgba = image.into_rgba8();
    let (width, height) = rgba.dimensions();
    let dx = (width as i64 * shadow.x as i64) / 100;
    let dy = (height as i64 * shadow.y as i64) / 100;
    let mut cast = RgbaImage::new(width, height);
    for (x, y, pixel) in rgba.enumerate_pixels() {
        let (tx, ty) = (x as i64 + dx, y as i64 + dy);
        if tx >= 0 && ty >= 0 && tx < width as i64 && ty < height as i64 {
            let alpha = pixel[3] as u32 * shadow.strength as u32 / 100;
            cast.put_pixel(tx as u32, ty as u32, Rgba([0, 0, 0, alpha as u8]));
        }
    }
    if shadow.blur > 0 {
        cast = super::blur::blur_buffer(cast, shadow.blur as f32, budget)?;
    }
    image::imageops::overlay(&mut cast, &rgba, 0, 0);
    Ok(DynamicImage::ImageRgba8(cast))
}

/// `e-distort`: the image drawn into its new shape; transparent where it does not reach.
pub fn distort(
    image: DynamicImage,
    distort: Distort,
    max_side: u32,
    budget: &Budget,
) -> Result<DynamicImage, ProcessError> {
    let source = image.into_rgba8();
    let out = match distort {
        Distort::Perspective(corners) => perspective(&source, corners, budget)?,
        Distort::Arc(degrees) => arc(&source, degrees, max_side, budget)?,
    };
    Ok(DynamicImage::ImageRgba8(out))
}

/// The corners of `source` (clockwise from top-left) moved to `corners`, on a canvas of the
/// same size.
fn perspective(
    source: &RgbaImage,
    corners: [(i32, i32); 4],
    budget: &Budget,
) -> Result<RgbaImage, ProcessError> {
    let (width, height) = source.dimensions();
    let (w, h) = (width as f64, height as f64);
    let from = corners.map(|(x, y)| (x as f64, y as f64));
    let to = [(0.0, 0.0), (w, 0.0), (w, h), (0.0, h)];
    // Output pixel → source pixel.
    let map = homography(from, to).ok_or_else(|| {
        ProcessError::Geometry("e-distort-p: the four corners do not make a shape".into())
    })?;
    let mut out = RgbaImage::new(width, height);
    for y in 0..height {
        if y % ROWS_PER_CHECK == 0 {
            budget.check("distort")?;
        }
        for x in 0..width {
            let (px, py) = (x as f64 + 0.5, y as f64 + 0.5);
            let z = map[6] * px + map[7] * py + 1.0;
            if z.abs() < 1e-9 {
                continue;
            }
            let sx = (map[0] * px + map[1] * py + map[2]) / z;
            let sy = (map[3] * px + map[4] * py + map[5]) / z;
            if let Some(pixel) = sample(source, sx - 0.5, sy - 0.5) {
                out.put_pixel(x, y, pixel);
            }
        }
    }
    Ok(out)
}

/// The image bent into an arc of `degrees` (up for positive, down for negative): its bottom
/// edge keeps its length on the inner circle, its top edge lies on the outer one.
fn arc(
    source: &RgbaImage,
    degrees: i16,
    max_side: u32,
    budget: &Budget,
) -> Result<RgbaImage, ProcessError> {
    let (width, height) = source.dimensions();
    let upside_down = degrees < 0;
    let flipped;
    let source = if upside_down {
        flipped = image::imageops::flip_vertical(source);
        &flipped
    } else {
        source
    };
    let theta = (degrees.unsigned_abs() as f64).to_radians();
    let inner = width as f64 / theta;
    let outer = inner + height as f64;
    let half = theta / 2.0;
    // The shape's extent: its corners, and the circles' extremes the arc passes through.
    let mut angles = vec![-half, half, 0.0];
    for extreme in [std::f64::consts::FRAC_PI_2, std::f64::consts::PI] {
        if half >= extreme {
            angles.extend([extreme, -extreme]);
        }
    }
    let points = angles
        .iter()
        .flat_map(|a| [inner, outer].map(|r| (r * a.sin(), r * a.cos())));
    let (mut left, mut right, mut bottom, mut top) = (0.0_f64, 0.0_f64, f64::MAX, f64::MIN);
    for (px, py) in points {
        (left, right) = (left.min(px), right.max(px));
        (bottom, top) = (bottom.min(py), top.max(py));
    }
    let (out_w, out_h) = ((right - left).ceil() as u32, (top - bottom).ceil() as u32);
    // The input, its flipped copy, and the output.
    let alive = 2 * super::rgba_bytes(width, height);
    super::ops::new_canvas((out_w, out_h), alive, max_side, budget, "e-distort")?;
    // The circle's centre, in output pixels (y down).
    let (cx, cy) = (-left, top);
    let mut out = RgbaImage::new(out_w.max(1), out_h.max(1));
    for y in 0..out_h {
        if y % ROWS_PER_CHECK == 0 {
            budget.check("distort")?;
        }
        for x in 0..out_w {
            let (dx, dy) = (x as f64 + 0.5 - cx, cy - (y as f64 + 0.5));
            let radius = (dx * dx + dy * dy).sqrt();
            let angle = dx.atan2(dy);
            if angle.abs() > half || radius < inner || radius > outer {
                continue;
            }
            let sx = (angle + half) / theta * width as f64;
            let sy = outer - radius;
            if let Some(pixel) = sample(source, sx - 0.5, sy - 0.5) {
                out.put_pixel(x, y, pixel);
            }
        }
    }
    Ok(if upside_down {
        image::imageops::flip_vertical(&out)
    } else {
        out
    })
}

/// The projective map taking each of `from` to the matching `to`: eight coefficients of
/// (a x + b y + c) / (g x + h y + 1), (d x + e y + f) / (g x + h y + 1).
fn homography(from: [(f64, f64); 4], to: [(f64, f64); 4]) -> Option<[f64; 8]> {
    let mut rows = [[0.0; 9]; 8];
    for i in 0..4 {
        let ((x, y), (u, v)) = (from[i], to[i]);
        rows[2 * i] = [x, y, 1.0, 0.0, 0.0, 0.0, -u * x, -u * y, u];
        rows[2 * i + 1] = [0.0, 0.0, 0.0, x, y, 1.0, -v * x, -v * y, v];
    }
    // Gaussian elimination with partial pivoting.
    for col in 0..8 {
        let pivot = (col..8).max_by(|&a, &b| rows[a][col].abs().total_cmp(&rows[b][col].abs()))?;
        if rows[pivot][col].abs() < 1e-9 {
            return None;
        }
        rows.swap(col, pivot);
        let pivot_row = rows[col];
        for (index, row) in rows.iter_mut().enumerate() {
            if index != col {
                let factor = row[col] / pivot_row[col];
                for (value, pivot_value) in row.iter_mut().zip(pivot_row).skip(col) {
                    *value -= factor * pivot_value;
                }
            }
        }
    }
    let mut out = [0.0; 8];
    for (i, value) in out.iter_mut().enumerate() {
        *value = rows[i][8] / rows[i][i];
    }
    Some(out)
}

/// The colour at (`x`, `y`) (pixel centres at whole numbers), bilinear; `None` outside.
fn sample(image: &RgbaImage, x: f64, y: f64) -> Option<Rgba<u8>> {
    let (width, height) = (image.width() as f64, image.height() as f64);
    if x < -0.5 || y < -0.5 || x > width - 0.5 || y > height - 0.5 {
        return None;
    }
    let x = x.clamp(0.0, width - 1.0);
    let y = y.clamp(0.0, height - 1.0);
    let (x0, y0) = (x.floor() as u32, y.floor() as u32);
    let (x1, y1) = (
        (x0 + 1).min(image.width() - 1),
        (y0 + 1).min(image.height() - 1),
    );
    let (fx, fy) = (x - x0 as f64, y - y0 as f64);
    let p = |px, py| image.get_pixel(px, py).0.map(f64::from);
    let (a, b, c, d) = (p(x0, y0), p(x1, y0), p(x0, y1), p(x1, y1));
    let mut out = [0u8; 4];
    for i in 0..4 {
        let top = a[i] * (1.0 - fx) + b[i] * fx;
        let bottom = c[i] * (1.0 - fx) + d[i] * fx;
        out[i] = (top * (1.0 - fy) + bottom * fy).round() as u8;
    }
    Some(Rgba(out))
}

/// The colour `t` of the way from `a` to `b`, mixed premultiplied (a transparent end adds no
/// colour of its own).
fn mix(a: Color, b: Color, t: f32) -> Color {
    let (aa, ba) = (a.a as f32 / 255.0, b.a as f32 / 255.0);
    let alpha = aa + (ba - aa) * t;
    if alpha <= 0.0 {
        return Color::TRANSPARENT;
    }
    let channel = |x: u8, y: u8| {
        let premultiplied = x as f32 * aa + (y as f32 * ba - x as f32 * aa) * t;
        (premultiplied / alpha).round().clamp(0.0, 255.0) as u8
    };
    Color {
        r: channel(a.r, b.r),
        g: channel(a.g, b.g),
        b: channel(a.b, b.b),
        a: (alpha * 255.0).round() as u8,
    }
}

/// `top` composited over `bottom`.
fn over(top: Color, bottom: Rgba<u8>) -> Rgba<u8> {
    let ta = top.a as f32 / 255.0;
    let ba = bottom[3] as f32 / 255.0;
    let oa = ta + ba * (1.0 - ta);
    if oa <= 0.0 {
        return Rgba([0, 0, 0, 0]);
    }
    let channel = |t: u8, b: u8| ((t as f32 * ta + b as f32 * ba * (1.0 - ta)) / oa).round() as u8;
    Rgba([
        channel(top.r, bottom[0]),
        channel(top.g, bottom[1]),
        channel(top.b, bottom[2]),
        (oa * 255.0).round() as u8,
    ])
}
