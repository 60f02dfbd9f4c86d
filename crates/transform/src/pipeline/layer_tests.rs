//! Layers drawn by the pipeline: images in each corner and at offsets (from either edge, by
//! expression), text boxes of the expected size, wrapping, solid blocks, nesting, opacity, and
//! layer inputs that are missing or too large, refused naming the file.

use super::*;
use image::{Rgba, RgbaImage};

const LIMITS: Limits = Limits {
    max_input_pixels: 100_000_000,
    max_output_side: 8192,
    max_frames: 1000,
    time_budget: std::time::Duration::from_secs(60),
    max_memory: 1 << 30,
};

fn png(image: &RgbaImage) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    image.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

/// A 200x100 white base.
fn base() -> Vec<u8> {
    png(&RgbaImage::from_pixel(200, 100, Rgba([255, 255, 255, 255])))
}

/// A 20x20 red logo.
fn files() -> LayerFiles {
    let logo = png(&RgbaImage::from_pixel(20, 20, Rgba([255, 0, 0, 255])));
    LayerFiles::from([("logo.png".to_string(), logo)])
}

fn draw(text: &str, files: &LayerFiles) -> Result<RgbaImage, ProcessError> {
    let t = Transformation::parse(&format!("{text},f-png"), &|_| None).unwrap();
    let budget = Budget::start(LIMITS.time_budget, Stop::default());
    let output = process_layered(&base(), &t, files, FormatChoice::default(), LIMITS, &budget)?;
    Ok(decode_rgba(&output.bytes, u64::MAX).unwrap())
}

fn is_red(p: &Rgba<u8>) -> bool {
    p[0] > 200 && p[1] < 60 && p[2] < 60
}

fn is_white(p: &Rgba<u8>) -> bool {
    p[0] > 240 && p[1] > 240 && p[2] > 240
}

/// The smallest box holding every pixel `keep` picks: (left, top, width, height).
fn bounds(image: &RgbaImage, keep: impl Fn(&Rgba<u8>) -> bool) -> Option<(u32, u32, u32, u32)> {
    let picked: Vec<(u32, u32)> = image
        .enumerate_pixels()
        .filter(|(_, _, p)| keep(p))
        .map(|(x, y, _)| (x, y))
        .collect();
    let left = picked.iter().map(|p| p.0).min()?;
    let top = picked.iter().map(|p| p.1).min()?;
    let right = picked.iter().map(|p| p.0).max()?;
    let bottom = picked.iter().map(|p| p.1).max()?;
    Some((left, top, right - left + 1, bottom - top + 1))
}

#[test]
fn image_layers_go_to_each_corner_and_offset() {
    let files = files();
    let cases = [
        ("lfo-top_left", (0, 0)),
        ("lfo-top_right", (180, 0)),
        ("lfo-bottom_left", (0, 80)),
        ("lfo-bottom_right", (180, 80)),
        ("", (90, 40)),
        ("lx-10,ly-15", (10, 15)),
        ("lx-N10,ly-N5", (170, 75)),
        ("lxc-bw_mul_0.25,lyc-bh_div_2", (40, 40)),
        ("lx-50,lap-center", (40, 40)),
        ("ly-0,lfo-right", (180, 0)),
    ];
    for (position, corner) in cases {
        let separator = if position.is_empty() { "" } else { "," };
        let image = draw(
            &format!("l-image,i-logo.png{separator}{position},l-end"),
            &files,
        )
        .unwrap();
        assert_eq!(image.dimensions(), (200, 100));
        assert_eq!(
            bounds(&image, is_red),
            Some((corner.0, corner.1, 20, 20)),
            "{position}"
        );
    }
    // The layer's own step: resized and rotated before it is placed.
    let image = draw("l-image,i-logo.png,w-40,h-10,lfo-top_left,l-end", &files).unwrap();
    assert_eq!(bounds(&image, is_red), Some((0, 0, 40, 10)));
    let image = draw(
        "l-image,i-logo.png,w-40,h-10,rt-90,lfo-top_left,l-end",
        &files,
    )
    .unwrap();
    assert_eq!(bounds(&image, is_red), Some((0, 0, 10, 40)));
    // A layer running off the edge is cut there.
    let image = draw("l-image,i-logo.png,lx-190,ly-90,l-end", &files).unwrap();
    assert_eq!(bounds(&image, is_red), Some((190, 90, 10, 10)));
}

#[test]
fn solid_blocks_nesting_and_opacity() {
    let files = files();
    let image = draw(
        "l-image,i-ik_canvas,bg-00FF00,w-50,h-30,lfo-top_left,l-end",
        &files,
    )
    .unwrap();
    assert_eq!(
        bounds(&image, |p| p[1] > 200 && p[0] < 60),
        Some((0, 0, 50, 30))
    );
    // Without a size the block covers its parent.
    let image = draw("l-solid,bg-0000FF,l-end", &files).unwrap();
    assert!(image.pixels().all(|p| p[2] > 200 && p[0] < 60));
    // A blue block nested in the logo's bottom-right corner, the logo at the base's top-left.
    let image = draw(
        "l-image,i-logo.png,w-40,lfo-top_left,l-solid,bg-0000FF,w-10,h-10,lfo-bottom_right,l-end,l-end",
        &files,
    )
    .unwrap();
    assert_eq!(bounds(&image, is_red).map(|b| (b.0, b.1)), Some((0, 0)));
    assert_eq!(
        bounds(&image, |p| p[2] > 200 && p[0] < 60),
        Some((30, 30, 10, 10))
    );
    // al-5: half opacity, black on white gives mid grey.
    let image = draw("l-solid,bg-000000,al-5,l-end", &files).unwrap();
    let grey = image.get_pixel(100, 50);
    assert!((120..=135).contains(&grey[0]), "{grey:?}");
    // o- on the layer does the same through its own step.
    let image = draw("l-solid,bg-000000,o-50,l-end", &files).unwrap();
    assert!((120..=135).contains(&image.get_pixel(5, 5)[0]));
}

#[test]
fn text_boxes_have_the_expected_size() {
    let files = LayerFiles::new();
    let image = draw(
        "l-text,i-Hello,fs-40,co-FFFFFF,bg-000000,pa-10,lfo-top_left,l-end",
        &files,
    )
    .unwrap();
    let dark = bounds(&image, |p| p[0] < 30 && p[1] < 30 && p[2] < 30).unwrap();
    // DejaVu Sans at 40 px: a line is 46.6 px high, "Hello" 101 px wide; 10 px padding.
    assert_eq!((dark.0, dark.1), (0, 0));
    assert_eq!(dark.3, 67, "height: {dark:?}");
    assert!((118..=126).contains(&dark.2), "width: {dark:?}");
    // The glyphs are white, inside the padding.
    let inside = image::imageops::crop_imm(&image, 0, 0, dark.2, dark.3).to_image();
    let glyphs = bounds(&inside, is_white).expect("white glyphs drawn");
    assert!(glyphs.0 >= 10 && glyphs.1 >= 10, "{glyphs:?}");
    assert!(glyphs.0 + glyphs.2 <= dark.2 - 10 && glyphs.1 + glyphs.3 <= dark.3 - 10);
    // Bold text is wider; wrapping makes the box as wide as `w` and several lines high.
    let regular = draw("l-text,i-Hello,fs-40,bg-000000,lfo-top_left,l-end", &files).unwrap();
    let bold = draw(
        "l-text,i-Hello,fs-40,bg-000000,tg-b,lfo-top_left,l-end",
        &files,
    )
    .unwrap();
    let width = |image: &RgbaImage| bounds(image, |p| p[0] < 30).unwrap().2;
    assert!(width(&bold) > width(&regular));
    let wrapped = draw(
        "l-text,i-one two three four,fs-20,bg-000000,w-80,lfo-top_left,l-end",
        &files,
    )
    .unwrap();
    let boxed = bounds(&wrapped, |p| p[0] < 30 && p[1] < 30).unwrap();
    assert_eq!(boxed.2, 80);
    assert!(boxed.3 >= 3 * 23, "wrapped onto several lines: {boxed:?}");
    // Text never comes out empty: the default colour is black, the default size 24 px.
    let plain = draw("l-text,i-Sale,l-end", &files).unwrap();
    let ink = bounds(&plain, |p| p[0] < 100).expect("black text drawn");
    assert!(ink.3 > 10 && ink.3 <= 24, "{ink:?}");
}

#[test]
fn layer_inputs_missing_or_too_large_are_named() {
    let missing = draw("l-image,i-nope.png,l-end", &LayerFiles::new()).unwrap_err();
    assert!(
        matches!(&missing, ProcessError::LayerInput { path, .. } if path == "nope.png"),
        "{missing}"
    );
    let big = png(&RgbaImage::new(400, 400));
    let files = LayerFiles::from([("big.png".to_string(), big)]);
    let t = Transformation::parse("l-image,i-big.png,l-end", &|_| None).unwrap();
    let tight = Limits {
        max_input_pixels: 100_000,
        ..LIMITS
    };
    let budget = Budget::start(LIMITS.time_budget, Stop::default());
    let err =
        process_layered(&base(), &t, &files, FormatChoice::default(), tight, &budget).unwrap_err();
    assert!(
        matches!(&err, ProcessError::LayerInput { path, reason } if path == "big.png" && reason.contains("pixels")),
        "{err}"
    );
    let not_an_image = LayerFiles::from([("logo.png".to_string(), b"plain text".to_vec())]);
    let err = draw("l-image,i-logo.png,l-end", &not_an_image).unwrap_err();
    assert!(matches!(err, ProcessError::LayerInput { .. }), "{err}");
    // A text box larger than the side limit is refused, not drawn.
    let huge = draw("l-text,i-x,fs-100,pa-1000,w-9000,l-end", &LayerFiles::new()).unwrap_err();
    assert!(matches!(huge, ProcessError::TooLarge { .. }), "{huge}");
}
