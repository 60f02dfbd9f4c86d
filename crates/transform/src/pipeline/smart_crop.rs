//! `fo-auto`: the crop window with the most detail. Edge energy (gradient magnitude) is measured
//! on a small grayscale copy, and the window slides along the axis that has room.

use super::geometry::Rect;
use image::{DynamicImage, GenericImageView};

/// The position of a `window`-sized crop of `image` that holds the most edge energy.
pub fn best_window(image: &DynamicImage, window: Rect) -> Rect {
    let (width, height) = image.dimensions();
    let (slack_x, slack_y) = (width - window.width, height - window.height);
    if slack_x == 0 && slack_y == 0 {
        return window;
    }
    let scale = (128.0 / width.max(height) as f64).min(1.0);
    let (sw, sh) = (
        ((width as f64 * scale) as u32).max(1),
        ((height as f64 * scale) as u32).max(1),
    );
    let small = image.thumbnail_exact(sw, sh).to_luma8();
    let energy = |x: u32, y: u32| -> u64 {
        let p = |x: u32, y: u32| small.get_pixel(x.min(sw - 1), y.min(sh - 1))[0] as i64;
        ((p(x + 1, y) - p(x, y)).abs() + (p(x, y + 1) - p(x, y)).abs()) as u64
    };
    // Energy per column (sliding horizontally) or per row (vertically).
    let horizontal = slack_x >= slack_y;
    let lines: Vec<u64> = if horizontal {
        (0..sw)
            .map(|x| (0..sh).map(|y| energy(x, y)).sum())
            .collect()
    } else {
        (0..sh)
            .map(|y| (0..sw).map(|x| energy(x, y)).sum())
            .collect()
    };
    let span = if horizontal {
        ((window.width as f64 * scale).round() as usize).clamp(1, lines.len())
    } else {
        ((window.height as f64 * scale).round() as usize).clamp(1, lines.len())
    };
    let mut best = (0usize, 0u64);
    let mut sum: u64 = lines[..span].iter().sum();
    for start in 0..=(lines.len() - span) {
        if start > 0 {
            sum = sum + lines[start + span - 1] - lines[start - 1];
        }
        if sum > best.1 {
            best = (start, sum);
        }
    }
    let offset = (best.0 as f64 / scale).round() as u32;
    if horizontal {
        Rect {
            x: offset.min(slack_x),
            ..window
        }
    } else {
        Rect {
            y: offset.min(slack_y),
            ..window
        }
    }
}
