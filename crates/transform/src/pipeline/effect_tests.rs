//! The effects with options, on generated images whose right answer is known: gradient colours
//! at both ends and the middle, a tint's dark, middle and light tones, a shadow where the
//! offset puts it, a perspective that moves a corner, an arc that bends a strip.

use super::*;
use image::{Rgba, RgbaImage};

fn png(image: &RgbaImage) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    image.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

fn draw(input: &RgbaImage, text: &str) -> RgbaImage {
    let t = Transformation::parse(&format!("{text},f-png"), &|_| None).unwrap();
    let output = process(&png(input), &t, FormatChoice::default(), Limits::default()).unwrap();
    decode_rgba(&output.bytes, u64::MAX).unwrap()
}

fn white(width: u32, height: u32) -> RgbaImage {
    RgbaImage::from_pixel(width, height, Rgba([255, 255, 255, 255]))
}

fn close(p: &Rgba<u8>, expected: [u8; 4], tolerance: u8) -> bool {
    (0..4).all(|i| p[i].abs_diff(expected[i]) <= tolerance)
}

#[test]
fn gradients_run_from_their_start_edge_to_the_stop_point() {
    // Default: transparent at the top to black at the bottom.
    let out = draw(&white(100, 100), "e-gradient");
    assert!(close(out.get_pixel(50, 0), [254, 254, 254, 255], 3));
    assert!(close(out.get_pixel(50, 50), [128, 128, 128, 255], 4));
    assert!(close(out.get_pixel(50, 99), [1, 1, 1, 255], 3));
    // Left to right, red to blue, reaching blue halfway.
    let out = draw(
        &white(100, 20),
        "e-gradient-ld-right_from-FF0000_to-0000FF_sp-0.5",
    );
    assert!(close(out.get_pixel(0, 10), [254, 0, 1, 255], 4));
    assert!(close(out.get_pixel(25, 10), [128, 0, 127, 255], 6));
    assert!(close(out.get_pixel(75, 10), [0, 0, 255, 255], 0));
}

#[test]
fn colorize_tints_the_tones() {
    let steps = RgbaImage::from_fn(3, 1, |x, _| {
        let v = [0, 128, 255][x as usize];
        Rgba([v, v, v, 255])
    });
    let out = draw(&steps, "e-colorize-co-FF0000_in-100");
    assert!(close(out.get_pixel(0, 0), [0, 0, 0, 255], 1), "black stays");
    assert!(
        close(out.get_pixel(1, 0), [255, 0, 0, 255], 2),
        "mid-tone is the colour"
    );
    assert!(
        close(out.get_pixel(2, 0), [255, 255, 255, 255], 1),
        "white stays"
    );
    let half = draw(&steps, "e-colorize-co-FF0000_in-50");
    assert!(close(half.get_pixel(1, 0), [192, 64, 64, 255], 2));
}

#[test]
fn shadows_fall_under_opaque_parts_at_their_offset() {
    // A 20x20 red square in the middle of a transparent 100x100 image.
    let square = RgbaImage::from_fn(100, 100, |x, y| {
        if (40..60).contains(&x) && (40..60).contains(&y) {
            Rgba([255, 0, 0, 255])
        } else {
            Rgba([0, 0, 0, 0])
        }
    });
    let out = draw(&square, "e-shadow-bl-0_st-50_x-10_y-N10");
    assert!(
        close(out.get_pixel(50, 50), [255, 0, 0, 255], 0),
        "the square"
    );
    // Shifted 10 px right and 10 px up, half opaque black.
    assert!(
        close(out.get_pixel(65, 35), [0, 0, 0, 127], 2),
        "{:?}",
        out.get_pixel(65, 35)
    );
    assert_eq!(
        out.get_pixel(35, 65)[3],
        0,
        "nothing where the offset points away"
    );
    // Default: soft, weak, 2% down and right.
    let soft = draw(&square, "e-shadow");
    assert!(soft.get_pixel(61, 61)[3] > 0 && soft.get_pixel(61, 61)[3] < 100);
}

#[test]
fn distortions_move_corners_and_bend_strips() {
    // Top-right corner pulled in to (50, 25): the old corner area is empty, the centre filled.
    let out = draw(&white(100, 100), "e-distort-p-0_0_50_25_100_100_0_100");
    assert_eq!(out.dimensions(), (100, 100));
    assert_eq!(out.get_pixel(95, 5)[3], 0);
    assert!(close(out.get_pixel(50, 60), [255, 255, 255, 255], 0));
    assert!(close(out.get_pixel(2, 2), [255, 255, 255, 255], 0));
    // A 200x20 strip bent 90 degrees up: its inner edge keeps 200 px on a circle of radius
    // 127 px, its outer on one of 147 px: 208x57, the ends raised above the middle.
    let arc = draw(&white(200, 20), "e-distort-a-90");
    let (w, h) = arc.dimensions();
    assert!(
        (207..=210).contains(&w) && (56..=59).contains(&h),
        "{w}x{h}"
    );
    assert!(
        arc.get_pixel(w / 2, 2)[3] > 0,
        "the middle of the outer edge is at the top"
    );
    assert_eq!(
        arc.get_pixel(w / 2, h - 2)[3],
        0,
        "below the middle is empty"
    );
    let down = draw(&white(200, 20), "e-distort-a-N90");
    assert_eq!(down.dimensions(), (w, h));
    assert!(down.get_pixel(w / 2, h - 3)[3] > 0, "bent the other way");
    let bad = Transformation::parse("e-distort-p-0_0_0_0_0_0_0_0,f-png", &|_| None).unwrap();
    let err = process(
        &png(&white(10, 10)),
        &bad,
        FormatChoice::default(),
        Limits::default(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("e-distort"));
}
