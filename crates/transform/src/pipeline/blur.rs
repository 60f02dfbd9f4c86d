//! The blur every effect uses (`bl-`, sharpening, shadows): three box blurs in a row, which
//! together approximate a Gaussian of σ (Kovesi's box widths, as `image`'s `fast_blur`). Each box
//! pass costs the same whatever its radius (running sums), and both passes walk the image row by
//! row, so the budget is checked every [`ROWS_PER_CHECK`] rows: a blur of tens of megapixels
//! stops within milliseconds of its deadline instead of running on for seconds.

use super::{Budget, ProcessError};
use image::{DynamicImage, ImageBuffer, Pixel};

/// Rows between two budget checks.
const ROWS_PER_CHECK: usize = 64;

/// `image` blurred with σ = `sigma` (RGB and RGBA are blurred as they are; other layouts as
/// RGBA).
pub(crate) fn gaussian(
    image: DynamicImage,
    sigma: f32,
    budget: &Budget,
) -> Result<DynamicImage, ProcessError> {
    Ok(match image {
        DynamicImage::ImageRgb8(rgb) => DynamicImage::ImageRgb8(blur_buffer(rgb, sigma, budget)?),
        DynamicImage::ImageRgba8(rgba) => {
            DynamicImage::ImageRgba8(blur_buffer(rgba, sigma, budget)?)
        }
        other => DynamicImage::ImageRgba8(blur_buffer(other.into_rgba8(), sigma, budget)?),
    })
}

/// [`gaussian`] of one buffer of 8-bit pixels.
pub(crate) fn blur_buffer<P: Pixel<Subpixel = u8>>(
    buffer: ImageBuffer<P, Vec<u8>>,
    sigma: f32,
    budget: &Budget,
) -> Result<ImageBuffer<P, Vec<u8>>, ProcessError> {
    let (width, height) = buffer.dimensions();
    if width == 0 || height == 0 || sigma <= 0.0 {
        return Ok(buffer);
    }
    let shape = Shape {
        width: width as usize,
        height: height as usize,
        channels: P::CHANNEL_COUNT as usize,
    };
    let mut pixels = buffer.into_raw();
    let mut between = vec![0u8; pixels.len()];
    for radius in box_radii(sigma) {
        horizontal(&pixels, &mut between, shape, radius, budget)?;
        vertical(&between, &mut pixels, shape, radius, budget)?;
    }
    Ok(ImageBuffer::from_raw(width, height, pixels).expect("the same size as the input"))
}

/// Division by a box's span as a multiplication (a division per sample dominated the passes).
#[derive(Debug, Clone, Copy)]
struct Average {
    reciprocal: u64,
}

impl Average {
    const SHIFT: u32 = 32;

    fn over(span: u32) -> Self {
        Self {
            reciprocal: (1u64 << Self::SHIFT).div_ceil(span as u64),
        }
    }

    /// `sum / span`, rounded to the nearest (exact for sums up to 255 × 2¹⁶).
    fn of(self, sum: u32, span: u32) -> u8 {
        (((sum + span / 2) as u64 * self.reciprocal) >> Self::SHIFT) as u8
    }
}

#[derive(Debug, Clone, Copy)]
struct Shape {
    width: usize,
    height: usize,
    channels: usize,
}

/// The radii of three boxes whose succession approximates a Gaussian of σ.
fn box_radii(sigma: f32) -> [usize; 3] {
    let n = 3.0_f32;
    let ideal = (12.0 * sigma * sigma / n + 1.0).sqrt();
    let mut lower = ideal.floor();
    if lower % 2.0 == 0.0 {
        lower -= 1.0;
    }
    let lower = lower.max(1.0);
    let upper = lower + 2.0;
    let m = ((12.0 * sigma * sigma - n * lower * lower - 4.0 * n * lower - 3.0 * n)
        / (-4.0 * lower - 4.0))
        .round();
    std::array::from_fn(|i| {
        let width = if (i as f32) < m { lower } else { upper };
        ((width as usize).saturating_sub(1)) / 2
    })
}

/// Each row averaged over `2r + 1` neighbours (edges repeated), into `out`.
fn horizontal(
    source: &[u8],
    out: &mut [u8],
    shape: Shape,
    radius: usize,
    budget: &Budget,
) -> Result<(), ProcessError> {
    let Shape {
        width,
        channels,
        height,
    } = shape;
    let span = (2 * radius + 1) as u32;
    let average = Average::over(span);
    let stride = width * channels;
    let mut sums = vec![0u32; channels];
    for (y, (row, target)) in source
        .chunks_exact(stride)
        .zip(out.chunks_exact_mut(stride))
        .enumerate()
    {
        if y % ROWS_PER_CHECK == 0 {
            budget.check("blur")?;
        }
        let at = |x: isize, c: usize| row[(x.clamp(0, width as isize - 1) as usize) * channels + c];
        for (c, sum) in sums.iter_mut().enumerate() {
            *sum = (-(radius as isize)..=radius as isize)
                .map(|x| at(x, c) as u32)
                .sum();
        }
        for x in 0..width {
            for (c, sum) in sums.iter_mut().enumerate() {
                target[x * channels + c] = average.of(*sum, span);
                let entering = at(x as isize + radius as isize + 1, c) as u32;
                let leaving = at(x as isize - radius as isize, c) as u32;
                *sum = *sum + entering - leaving;
            }
        }
    }
    debug_assert_eq!(source.len(), stride * height);
    Ok(())
}

/// Each column averaged over `2r + 1` neighbours (edges repeated), into `out`, walking rows so
/// memory is read in order: one running sum per column and channel.
fn vertical(
    source: &[u8],
    out: &mut [u8],
    shape: Shape,
    radius: usize,
    budget: &Budget,
) -> Result<(), ProcessError> {
    let Shape {
        width,
        height,
        channels,
    } = shape;
    let span = (2 * radius + 1) as u32;
    let average = Average::over(span);
    let stride = width * channels;
    let row = |y: isize| {
        let y = y.clamp(0, height as isize - 1) as usize;
        &source[y * stride..(y + 1) * stride]
    };
    let mut sums = vec![0u32; stride];
    for y in -(radius as isize)..=radius as isize {
        for (sum, value) in sums.iter_mut().zip(row(y)) {
            *sum += *value as u32;
        }
    }
    for (y, target) in out.chunks_exact_mut(stride).enumerate() {
        if y % ROWS_PER_CHECK == 0 {
            budget.check("blur")?;
        }
        for (value, sum) in target.iter_mut().zip(&sums) {
            *value = average.of(*sum, span);
        }
        let entering = row(y as isize + radius as isize + 1);
        let leaving = row(y as isize - radius as isize);
        for ((sum, add), sub) in sums.iter_mut().zip(entering).zip(leaving) {
            *sum = *sum + *add as u32 - *sub as u32;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{Rgb, RgbImage};
    use std::time::Duration;

    fn budget() -> Budget {
        Budget::start(Duration::from_secs(60), Default::default())
    }

    #[test]
    fn a_flat_image_stays_flat_and_an_edge_softens_symmetrically() {
        let flat = RgbImage::from_pixel(40, 30, Rgb([90, 120, 200]));
        let blurred = blur_buffer(flat.clone(), 5.0, &budget()).unwrap();
        assert_eq!(blurred, flat);
        // Black left half, white right half: a ramp across the middle, symmetric around it.
        let edge = RgbImage::from_fn(100, 10, |x, _| {
            if x < 50 {
                Rgb([0, 0, 0])
            } else {
                Rgb([255, 255, 255])
            }
        });
        let soft = blur_buffer(edge, 4.0, &budget()).unwrap();
        let at = |x: u32| soft.get_pixel(x, 5)[0] as i32;
        assert_eq!(at(0), 0);
        assert_eq!(at(99), 255);
        assert!(at(45) > 0 && at(45) < 128 && at(54) > 128 && at(54) < 255);
        assert!((at(45) + at(54) - 255).abs() <= 2, "{} {}", at(45), at(54));
    }

    #[test]
    fn it_is_close_to_the_image_crates_fast_blur() {
        let noise = RgbImage::from_fn(64, 48, |x, y| {
            let v = ((x * 31 + y * 17) % 251) as u8;
            Rgb([v, v.wrapping_mul(3), 255 - v])
        });
        let ours = blur_buffer(noise.clone(), 3.0, &budget()).unwrap();
        let theirs = image::imageops::fast_blur(&noise, 3.0);
        // Away from the edges (where the two repeat the border differently).
        for y in 10..38 {
            for x in 10..54 {
                for c in 0..3 {
                    let (a, b) = (
                        ours.get_pixel(x, y)[c] as i32,
                        theirs.get_pixel(x, y)[c] as i32,
                    );
                    assert!((a - b).abs() <= 3, "({x}, {y}) {a} vs {b}");
                }
            }
        }
    }

    #[test]
    fn the_average_rounds_as_a_division_does() {
        for span in [1u32, 3, 7, 101, 2001] {
            let average = Average::over(span);
            for sum in (0..=255 * span).step_by(7) {
                assert_eq!(
                    average.of(sum, span),
                    ((sum + span / 2) / span) as u8,
                    "{sum}/{span}"
                );
            }
        }
    }

    #[test]
    fn a_stopped_blur_ends_at_its_next_check() {
        let big = RgbImage::from_pixel(2000, 2000, Rgb([1, 2, 3]));
        let stop = super::super::Stop::default();
        stop.stop();
        let stopped = Budget::start(Duration::from_secs(60), stop);
        let error = blur_buffer(big, 50.0, &stopped).unwrap_err();
        assert_eq!(error, ProcessError::Abandoned);
    }
}
