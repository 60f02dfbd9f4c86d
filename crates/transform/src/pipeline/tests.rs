//! The pipeline on real photos (the shipped samples) and generated images: sizes, formats,
//! pixels, EXIF orientation, and hostile inputs refused cleanly.

use super::*;
use image::{GenericImageView, Rgb, RgbImage, Rgba, RgbaImage};

const CUPS: &[u8] = include_bytes!("../../../pixelway/assets/samples/cups.jpg"); // 400x250
const FLOWER: &[u8] = include_bytes!("../../../pixelway/assets/samples/fresh-flower.jpg"); // 1600x1203

const LIMITS: Limits = Limits {
    max_input_pixels: 100_000_000,
    max_output_side: 8192,
    max_frames: 1000,
    time_budget: std::time::Duration::from_secs(60),
    max_memory: 1 << 30,
};

fn run(bytes: &[u8], text: &str, choice: FormatChoice) -> Result<Output, ProcessError> {
    let t = Transformation::parse(text, &|_| None).unwrap();
    process(bytes, &t, choice, LIMITS)
}

fn decode_output(output: &Output) -> image::DynamicImage {
    decode::decode(&output.bytes, u64::MAX, 1.0).unwrap().image
}

/// Left half red, right half blue.
fn halves(width: u32, height: u32) -> Vec<u8> {
    let img = RgbImage::from_fn(width, height, |x, _| {
        if x < width / 2 {
            Rgb([255, 0, 0])
        } else {
            Rgb([0, 0, 255])
        }
    });
    encode::encode(&image::DynamicImage::ImageRgb8(img), Format::Png, opts()).unwrap()
}

fn opts() -> encode::EncodeOptions {
    encode::EncodeOptions {
        quality: 90,
        progressive: false,
        lossless: false,
        matte: Color::BLACK,
    }
}

fn is_red(p: Rgba<u8>) -> bool {
    p[0] > 200 && p[2] < 60
}

#[test]
fn resizes_real_photos_with_every_crop_mode() {
    let cases = [
        ("w-200", (200, 125)),
        ("h-100", (160, 100)),
        ("w-0.5", (200, 125)),
        ("w-100,h-100", (100, 100)),
        ("w-100,h-100,c-force", (100, 100)),
        ("w-300,h-300,c-at_max", (300, 188)),
        ("w-1000,h-1000,c-at_max", (400, 250)),
        ("w-1000,h-1000,c-at_max_enlarge", (1000, 625)),
        ("w-100,h-100,c-at_least", (160, 100)),
        ("w-300,h-300,cm-pad_resize,bg-FFFFFF", (300, 300)),
        ("w-50,h-40,cm-extract,x-10,y-10", (50, 40)),
        ("w-500,h-500,cm-pad_extract", (500, 500)),
        ("w-100,dpr-2", (200, 125)),
        ("w-200:rt-90", (125, 200)),
        ("w-100,h-100,fo-auto", (100, 100)),
        ("w-200,b-5_FF0000", (210, 135)),
    ];
    for (text, (w, h)) in cases {
        let out =
            run(CUPS, text, FormatChoice::default()).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!((out.width, out.height), (w, h), "{text}");
        let decoded = decode_output(&out);
        assert_eq!(decoded.dimensions(), (w, h), "{text}: encoded size");
        assert_eq!(out.format, Format::Jpeg, "{text}: JPEG stays JPEG");
    }
}

#[test]
fn shrink_on_load_still_gives_exact_sizes() {
    let out = run(FLOWER, "w-200", FormatChoice::default()).unwrap();
    assert_eq!((out.width, out.height), (200, 150));
    let out = run(FLOWER, "w-190,h-190", FormatChoice::default()).unwrap();
    assert_eq!((out.width, out.height), (190, 190));
}

#[test]
fn formats_and_negotiation() {
    let webp = FormatChoice {
        accepts_webp: true,
        best_format: true,
        ..Default::default()
    };
    let out = run(CUPS, "w-100", webp).unwrap();
    assert_eq!(out.format, Format::Webp);
    assert_eq!(&out.bytes[8..12], b"WEBP");
    assert_eq!(run(CUPS, "w-100,f-png", webp).unwrap().format, Format::Png);
    assert_eq!(run(CUPS, "w-100,f-jpg", webp).unwrap().format, Format::Jpeg);
    assert_eq!(
        run(CUPS, "w-100,f-auto", FormatChoice::default())
            .unwrap()
            .format,
        Format::Jpeg
    );
    // GIF from any input: one frame of the same picture in 256 colours.
    let gif = run(CUPS, "w-100,f-gif", webp).unwrap();
    assert_eq!(gif.format, Format::Gif);
    let frame = decode_rgba(&gif.bytes, 1_000_000).unwrap();
    let reference = decode_rgba(&run(CUPS, "w-100,f-png", webp).unwrap().bytes, 1_000_000).unwrap();
    assert_eq!(frame.dimensions(), reference.dimensions());
    let close = frame
        .pixels()
        .zip(reference.pixels())
        .filter(|(a, b)| (0..3).all(|c| (a[c] as i32 - b[c] as i32).abs() < 24))
        .count();
    assert!(
        close * 10 >= frame.len() / 4 * 9,
        "{close} of {} pixels close",
        frame.len() / 4
    );
    // Transparent PNG: never JPEG automatically; f-jpg flattens it onto the background.
    let transparent = RgbaImage::from_fn(40, 40, |x, _| {
        Rgba([0, 255, 0, if x < 20 { 0 } else { 255 }])
    });
    let png = encode::encode(
        &image::DynamicImage::ImageRgba8(transparent),
        Format::Png,
        opts(),
    )
    .unwrap();
    let plain = FormatChoice {
        best_format: true,
        ..Default::default()
    };
    assert_eq!(run(&png, "w-20", plain).unwrap().format, Format::Png);
    let flattened = run(&png, "f-jpg,bg-FF0000", plain).unwrap();
    assert!(is_red(
        decode_output(&flattened)
            .to_rgba8()
            .get_pixel(5, 20)
            .to_owned()
    ));
    let lossless = run(&png, "f-webp,lo-true", plain).unwrap();
    assert_eq!(
        decode_output(&lossless).to_rgba8().get_pixel(5, 5)[3],
        0,
        "alpha kept"
    );
}

#[test]
fn pixels_follow_crop_focus_rotation_and_flip() {
    let png = halves(200, 100);
    let left =
        decode_output(&run(&png, "w-50,h-50,fo-left", FormatChoice::default()).unwrap()).to_rgba8();
    assert!(
        is_red(*left.get_pixel(25, 25)),
        "fo-left keeps the red half"
    );
    let right = decode_output(&run(&png, "w-50,h-50,fo-right", FormatChoice::default()).unwrap())
        .to_rgba8();
    assert!(!is_red(*right.get_pixel(25, 25)));
    let turned = decode_output(&run(&png, "rt-90", FormatChoice::default()).unwrap()).to_rgba8();
    assert_eq!(turned.dimensions(), (100, 200));
    assert!(
        is_red(*turned.get_pixel(50, 10)),
        "clockwise: the left half goes to the top"
    );
    let flipped = decode_output(&run(&png, "fl-h", FormatChoice::default()).unwrap()).to_rgba8();
    assert!(is_red(*flipped.get_pixel(190, 50)));
    let gray =
        decode_output(&run(&png, "e-grayscale", FormatChoice::default()).unwrap()).to_rgba8();
    let p = gray.get_pixel(10, 10);
    assert!(p[0] == p[1] && p[1] == p[2]);
    let round =
        decode_output(&run(&png, "r-max,f-png", FormatChoice::default()).unwrap()).to_rgba8();
    assert_eq!(round.get_pixel(0, 0)[3], 0, "corner cut");
    assert_eq!(round.get_pixel(100, 50)[3], 255, "centre kept");
    let tilted = run(&png, "rt-45", FormatChoice::default()).unwrap();
    assert!(
        tilted.width > 200 && tilted.height > 200,
        "{}x{}",
        tilted.width,
        tilted.height
    );
}

/// A JPEG with an EXIF orientation tag spliced in after SOI.
fn with_orientation(jpeg: &[u8], orientation: u8) -> Vec<u8> {
    let tiff: Vec<u8> = [
        b"II*\0".as_slice(),
        &8u32.to_le_bytes(),
        &1u16.to_le_bytes(),
        &0x0112u16.to_le_bytes(),
        &3u16.to_le_bytes(),
        &1u32.to_le_bytes(),
        &[orientation, 0, 0, 0],
        &0u32.to_le_bytes(),
    ]
    .concat();
    let payload = [b"Exif\0\0".as_slice(), &tiff].concat();
    let length = (payload.len() + 2) as u16;
    [
        &jpeg[..2],
        &[0xFF, 0xE1],
        &length.to_be_bytes(),
        &payload,
        &jpeg[2..],
    ]
    .concat()
}

#[test]
fn exif_orientation_is_applied() {
    let rotated = with_orientation(CUPS, 6);
    assert_eq!(decode::exif_orientation(&rotated), 6);
    let out = run(&rotated, "w-125", FormatChoice::default()).unwrap();
    assert_eq!(
        (out.width, out.height),
        (125, 200),
        "portrait after orientation 6"
    );
}

#[test]
fn hostile_inputs_are_refused_cleanly() {
    let cut = &CUPS[..CUPS.len() / 3];
    assert!(matches!(
        run(cut, "w-100", FormatChoice::default()),
        Err(ProcessError::Corrupt(_))
    ));
    assert!(matches!(
        run(b"", "w-100", FormatChoice::default()),
        Err(ProcessError::UnsupportedInput(_))
    ));
    assert!(matches!(
        run(b"<html>not an image</html>", "w-1", FormatChoice::default()),
        Err(ProcessError::UnsupportedInput(_))
    ));
    // A PNG header declaring 100000x100000: refused from the header, before any allocation.
    let mut huge = halves(4, 4);
    huge[16..20].copy_from_slice(&100_000u32.to_be_bytes());
    huge[20..24].copy_from_slice(&100_000u32.to_be_bytes());
    assert!(matches!(
        run(&huge, "w-100", FormatChoice::default()),
        Err(ProcessError::TooManyPixels { .. }) | Err(ProcessError::Corrupt(_))
    ));
    let small = Limits {
        max_input_pixels: 1000,
        max_output_side: 100,
        ..LIMITS
    };
    let t = Transformation::parse("w-10", &|_| None).unwrap();
    assert!(matches!(
        process(CUPS, &t, FormatChoice::default(), small),
        Err(ProcessError::TooManyPixels { .. })
    ));
    let t = Transformation::parse("w-5000", &|_| None).unwrap();
    assert!(process(CUPS, &t, FormatChoice::default(), LIMITS).is_ok());
    let tight = Limits {
        max_output_side: 1000,
        ..LIMITS
    };
    assert!(matches!(
        process(CUPS, &t, FormatChoice::default(), tight),
        Err(ProcessError::TooLarge { .. })
    ));
}

#[test]
fn avif_output_and_opt_in_negotiation() {
    let out = run(CUPS, "w-120,f-avif,q-50", FormatChoice::default()).unwrap();
    assert_eq!(out.format, Format::Avif);
    assert_eq!(&out.bytes[4..12], b"ftypavif");
    let accepts = FormatChoice {
        accepts_avif: true,
        accepts_webp: true,
        best_format: true,
        auto_avif: false,
    };
    assert_eq!(
        run(CUPS, "w-50", accepts).unwrap().format,
        Format::Webp,
        "AVIF is opt-in"
    );
    let opted = FormatChoice {
        auto_avif: true,
        ..accepts
    };
    assert_eq!(run(CUPS, "w-50", opted).unwrap().format, Format::Avif);
}

const HEIC: &[u8] = include_bytes!("../../tests/fixtures/cups.heic"); // 400x250
const HEIC_ALPHA: &[u8] = include_bytes!("../../tests/fixtures/round.heic"); // 120x75, alpha

#[test]
fn avif_and_heic_inputs_decode_to_the_same_picture() {
    let reference = decode_rgba(CUPS, LIMITS.max_input_pixels).unwrap();
    let avif = run(CUPS, "f-avif,q-90", FormatChoice::default())
        .unwrap()
        .bytes;
    for (name, bytes, kind) in [
        ("avif", &avif[..], InputKind::Avif),
        ("heic", HEIC, InputKind::Heic),
    ] {
        assert_eq!(probe(bytes).unwrap(), (kind, 400, 250), "{name}");
        let decoded = decode_rgba(bytes, LIMITS.max_input_pixels).unwrap();
        let db = psnr(&decoded, &reference);
        assert!(
            db > 30.0,
            "{name}: PSNR {db:.1} dB against the JPEG it was made from"
        );
        // A mirrored picture scores far lower, so the check above can fail.
        let mirrored = image::imageops::flip_horizontal(&reference);
        assert!(psnr(&decoded, &mirrored) < 25.0, "{name}");
    }
    // Transformed like any input; HEIC's own web format is JPEG, AVIF stays AVIF.
    let heic = run(HEIC, "w-100", FormatChoice::default()).unwrap();
    assert_eq!(
        (heic.format, heic.width, heic.height),
        (Format::Jpeg, 100, 63)
    );
    let again = run(&avif, "w-100", FormatChoice::default()).unwrap();
    assert_eq!(again.format, Format::Avif);
    // Alpha survives: transparent corners, opaque middle; never JPEG.
    let round = run(HEIC_ALPHA, "w-60", FormatChoice::default()).unwrap();
    assert_eq!(round.format, Format::Png);
    let pixels = decode_rgba(&round.bytes, LIMITS.max_input_pixels).unwrap();
    assert!(pixels.get_pixel(0, 0)[3] < 40, "corner is transparent");
    assert!(pixels.get_pixel(30, 18)[3] > 220, "middle is opaque");
}

#[test]
fn heif_limits_and_damage_are_refused() {
    let small = Limits {
        max_input_pixels: 50_000,
        ..LIMITS
    };
    let t = Transformation::parse("w-10", &|_| None).unwrap();
    assert!(matches!(
        process(HEIC, &t, FormatChoice::default(), small),
        Err(ProcessError::TooManyPixels { .. })
    ));
    let truncated = &HEIC[..HEIC.len() / 2];
    assert!(matches!(
        run(truncated, "w-10", FormatChoice::default()),
        Err(ProcessError::Corrupt(_))
    ));
    let mut empty_box = b"\0\0\0\x18ftypheic\0\0\0\0mif1heic".to_vec();
    empty_box.extend_from_slice(&[0xFF; 64]);
    assert!(matches!(
        run(&empty_box, "w-10", FormatChoice::default()),
        Err(ProcessError::Corrupt(_))
    ));
}

const SVG: &[u8] = br##"<?xml version="1.0"?>
<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="200" height="100">
  <rect x="0" y="0" width="100" height="100" fill="#ff0000"/>
  <rect x="100" y="0" width="100" height="100" fill="#0000ff"/>
  <image href="file:///etc/passwd" x="0" y="0" width="10" height="10"/>
  <image xlink:href="http://169.254.169.254/latest/meta-data" x="0" y="0" width="10" height="10"/>
</svg>"##;

#[test]
fn svg_is_rasterised_without_external_references() {
    let out = run(SVG, "w-100", FormatChoice::default()).unwrap();
    assert_eq!((out.format, out.width, out.height), (Format::Png, 100, 50));
    let rgba = decode_output(&out).to_rgba8();
    assert!(is_red(*rgba.get_pixel(10, 25)) && !is_red(*rgba.get_pixel(90, 25)));
    let jpeg = run(SVG, "w-100,f-jpg", FormatChoice::default()).unwrap();
    assert_eq!(jpeg.format, Format::Jpeg);
}

#[test]
fn hostile_svgs_are_refused_quickly() {
    let laughs = br#"<?xml version="1.0"?>
<!DOCTYPE svg [
 <!ENTITY a "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa">
 <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
 <!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
 <!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">
 <!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;">
 <!ENTITY f "&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;">
]>
<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><text>&f;</text></svg>"#;
    let started = std::time::Instant::now();
    let result = run(laughs, "w-10", FormatChoice::default());
    assert!(
        started.elapsed() < std::time::Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert!(
        matches!(result, Err(ProcessError::Corrupt(_))),
        "{result:?}"
    );
    let huge = br#"<svg xmlns="http://www.w3.org/2000/svg" width="100000" height="100000"></svg>"#;
    assert!(matches!(
        run(huge, "w-10", FormatChoice::default()),
        Err(ProcessError::TooManyPixels { .. })
    ));
}

/// Peak signal-to-noise ratio between two same-size images, in dB.
fn psnr(a: &RgbaImage, b: &RgbaImage) -> f64 {
    assert_eq!(a.dimensions(), b.dimensions());
    let mut sum = 0f64;
    for (p, q) in a.pixels().zip(b.pixels()) {
        for c in 0..3 {
            let d = p[c] as f64 - q[c] as f64;
            sum += d * d;
        }
    }
    let mse = sum / (a.width() as f64 * a.height() as f64 * 3.0);
    10.0 * (255.0f64 * 255.0 / mse.max(1e-9)).log10()
}

/// The pipeline's output (shrink-on-load decode, fast_image_resize, libjpeg-turbo q85) against
/// an independent reference: a full-size decode resized with the `image` crate's own Lanczos3.
#[test]
fn output_is_visually_equivalent_to_a_reference_resize() {
    let reference_full = decode::decode(FLOWER, u64::MAX, 1.0).unwrap().image;
    let reference = reference_full
        .resize_exact(400, 301, image::imageops::FilterType::Lanczos3)
        .to_rgba8();
    for (text, min_db) in [
        ("w-400,h-301,c-force,q-85", 30.0),
        ("w-400,h-301,c-force,f-webp,q-85", 30.0),
        ("w-400,h-301,c-force,f-png", 33.0),
        ("w-400,h-301,c-force,f-avif,q-60", 30.0),
    ] {
        let out = run(FLOWER, text, FormatChoice::default()).unwrap();
        let ours = decode_output(&out).to_rgba8();
        let db = psnr(&ours, &reference);
        assert!(db > min_db, "{text}: PSNR {db:.1} dB against the reference");
    }
    // A real difference is detected: the same image mirrored scores far lower.
    let shifted = run(
        FLOWER,
        "w-400,h-301,c-force,q-85:fl-h",
        FormatChoice::default(),
    )
    .unwrap();
    assert!(psnr(&decode_output(&shifted).to_rgba8(), &reference) < 25.0);
}

#[test]
fn cache_relevant_choice_drops_what_cannot_change_the_output() {
    let chrome = FormatChoice {
        accepts_webp: true,
        accepts_avif: true,
        best_format: true,
        auto_avif: false,
    };
    let curl = FormatChoice {
        best_format: true,
        ..Default::default()
    };
    // An explicit format ignores Accept entirely.
    assert_eq!(
        chrome.relevant_to(Some(Format::Png)),
        curl.relevant_to(Some(Format::Png))
    );
    // Accepting AVIF matters only when automatic AVIF is on.
    let webp_only = FormatChoice {
        accepts_avif: false,
        ..chrome
    };
    assert_eq!(chrome.relevant_to(None), webp_only.relevant_to(None));
    let opted = FormatChoice {
        auto_avif: true,
        ..chrome
    };
    assert_ne!(
        opted.relevant_to(None),
        FormatChoice {
            accepts_avif: false,
            ..opted
        }
        .relevant_to(None)
    );
    // WebP support still splits automatic choices.
    assert_ne!(
        chrome.relevant_to(Some(Format::Auto)),
        curl.relevant_to(Some(Format::Auto))
    );
}

#[test]
fn the_time_budget_stops_a_transformation_between_stages() {
    let t = Transformation::parse("w-1500:bl-10:rt-45", &|_| None).unwrap();
    let hurried = Limits {
        time_budget: std::time::Duration::from_millis(1),
        ..LIMITS
    };
    let err = process(FLOWER, &t, FormatChoice::default(), hurried).unwrap_err();
    assert!(matches!(err, ProcessError::TimeBudget { .. }), "{err}");
    assert!(err.to_string().contains("limits.transform_time_budget"));
    assert!(process(FLOWER, &t, FormatChoice::default(), LIMITS).is_ok());
}

/// Second security round: every stage is bounded before it starts or checks the budget while
/// it runs, and every stage's output is held to `max_output_side`.
mod bounded_stages {
    use super::*;
    use crate::hostile_inputs;
    use std::time::{Duration, Instant};

    #[test]
    fn rotation_cannot_grow_past_the_output_limit() {
        let started = Instant::now();
        let err = run(CUPS, "w-8192,h-8192,c-force,rt-45", FormatChoice::default()).unwrap_err();
        assert!(
            matches!(
                err,
                ProcessError::TooLarge {
                    width: 11586,
                    height: 11586,
                    limit: 8192
                }
            ),
            "{err}"
        );
        // Refused from the computed size, before the 11586² canvas was drawn.
        assert!(started.elapsed() < Duration::from_secs(5));
        let err = run(
            CUPS,
            "w-8192,h-8192,c-force,b-1_FF0000",
            FormatChoice::default(),
        )
        .unwrap_err();
        assert!(matches!(err, ProcessError::TooLarge { .. }), "{err}");
    }

    /// Sharpening blurs with a box approximation: a radius of 100 costs about what a radius of
    /// 1 does (a Gaussian kernel of 600 taps made this a minutes-long stage).
    #[test]
    fn sharpening_cost_does_not_grow_with_the_radius() {
        let time = |text: &str| {
            let t = Transformation::parse(text, &|_| None).unwrap();
            let started = Instant::now();
            process(FLOWER, &t, FormatChoice::default(), LIMITS).unwrap();
            started.elapsed()
        };
        let small = time("w-2000,h-2000,c-force,e-usm-1-1-1-0");
        let large = time("w-2000,h-2000,c-force,e-usm-100-100-10-0");
        assert!(
            large < small * 4 + Duration::from_millis(500),
            "radius 100 took {large:?}, radius 1 {small:?}"
        );
        let hurried = Limits {
            time_budget: Duration::from_millis(1),
            ..LIMITS
        };
        let t =
            Transformation::parse("w-2000,h-2000,c-force,e-usm-100-100-10-0", &|_| None).unwrap();
        let err = process(FLOWER, &t, FormatChoice::default(), hurried).unwrap_err();
        assert!(matches!(err, ProcessError::TimeBudget { .. }), "{err}");
    }

    /// A stopped transformation ends at its next check, long before it would have finished.
    #[test]
    fn a_stopped_transformation_ends_early() {
        let t = Transformation::parse("w-3000,h-3000,c-force,rt-30", &|_| None).unwrap();
        let unhurried = Budget::start(Duration::from_secs(600), Stop::default());
        let finished = Instant::now();
        process_within(FLOWER, &t, FormatChoice::default(), LIMITS, &unhurried).unwrap();
        let whole = finished.elapsed();
        let stop = Stop::default();
        let budget = Budget::start(Duration::from_secs(600), stop.clone());
        let stopper = std::thread::spawn(move || {
            std::thread::sleep(whole / 4);
            stop.stop();
        });
        let started = Instant::now();
        let err = process_within(FLOWER, &t, FormatChoice::default(), LIMITS, &budget).unwrap_err();
        stopper.join().unwrap();
        assert_eq!(err, ProcessError::Abandoned);
        assert!(
            started.elapsed() < whole * 3 / 4,
            "stopped after {:?} of a {whole:?} transformation",
            started.elapsed()
        );
    }

    #[test]
    fn progressive_jpegs_get_a_scan_limit_for_their_size() {
        let many = hostile_inputs::jpeg_with_scans(1024, 768, 2000);
        let started = Instant::now();
        let err = run(&many, "w-100", FormatChoice::default()).unwrap_err();
        assert!(
            matches!(err, ProcessError::TooManyScans { limit: 500 }),
            "{err}"
        );
        assert!(started.elapsed() < Duration::from_secs(5));
        // An ordinary progressive JPEG (about ten scans) decodes.
        let ordinary = hostile_inputs::jpeg_with_scans(1024, 768, 1);
        assert!(run(&ordinary, "w-100", FormatChoice::default()).is_ok());
        assert_eq!(decode::jpeg_scan_limit(100_000_000), 32);
        assert_eq!(decode::jpeg_scan_limit(12_000_000), 166);
        assert_eq!(decode::jpeg_scan_limit(1_000), 500);
    }

    #[test]
    fn costly_svg_filters_are_refused_before_drawing() {
        let svg = hostile_inputs::svg_morphology_over_turbulence(2000, 200);
        let started = Instant::now();
        let err = run(svg.as_bytes(), "f-png", FormatChoice::default()).unwrap_err();
        assert!(matches!(err, ProcessError::TooCostly { .. }), "{err}");
        assert!(started.elapsed() < Duration::from_secs(2));
        // The same filter with a small radius on a small canvas is drawn.
        let cheap = hostile_inputs::svg_morphology_over_turbulence(100, 2);
        let out = run(cheap.as_bytes(), "f-png", FormatChoice::default()).unwrap();
        assert_eq!((out.width, out.height), (100, 100));
    }

    #[test]
    fn svg_sizes_round_up_and_draw_at_the_size_needed() {
        let svg = hostile_inputs::svg_of_size("99999.6", "999.6");
        assert_eq!(
            probe(svg.as_bytes()).unwrap(),
            (InputKind::Svg, 100_000, 1000)
        );
        let tight = Limits {
            max_input_pixels: 99_999_999,
            ..LIMITS
        };
        let t = Transformation::parse("w-100", &|_| None).unwrap();
        assert!(matches!(
            process(svg.as_bytes(), &t, FormatChoice::default(), tight),
            Err(ProcessError::TooManyPixels {
                width: 100_000,
                height: 1000,
                ..
            })
        ));
        // Within the limit, a thumbnail is drawn at thumbnail size (not 100 MP, then resized).
        let out = process(svg.as_bytes(), &t, FormatChoice::default(), LIMITS).unwrap();
        assert_eq!((out.width, out.height), (100, 1));
    }

    #[test]
    fn ancillary_png_chunks_cannot_inflate_past_the_image() {
        let bomb = hostile_inputs::png_with_inflating_iccp(10, 256 << 20);
        assert!(bomb.len() < 2 << 20, "{} bytes", bomb.len());
        let started = Instant::now();
        // Refused or decoded without the profile: either way without inflating 256 MiB.
        match run(&bomb, "w-5", FormatChoice::default()) {
            Ok(out) => assert_eq!(out.width, 5),
            Err(err) => assert!(matches!(err, ProcessError::Corrupt(_)), "{err}"),
        }
        assert!(started.elapsed() < Duration::from_secs(5));
    }
}

/// A minimal ICC v2 display profile with Display P3's primaries (adapted to D50, as the
/// profile connection space wants) and a 2.2 gamma: what a phone's photo carries, in spirit.
fn display_p3_profile() -> Vec<u8> {
    let fixed = |v: f64| ((v * 65536.0).round() as i32).to_be_bytes();
    let xyz = |x: f64, y: f64, z: f64| {
        let mut tag = b"XYZ \0\0\0\0".to_vec();
        for v in [x, y, z] {
            tag.extend(fixed(v));
        }
        tag
    };
    let mut curve = b"curv\0\0\0\0".to_vec();
    curve.extend(1u32.to_be_bytes());
    curve.extend(0x0233u16.to_be_bytes()); // 2.2 as u8Fixed8
    curve.extend([0, 0]);
    let tags: Vec<(&[u8; 4], Vec<u8>)> = vec![
        (b"wtpt", xyz(0.9642, 1.0, 0.8249)),
        (b"rXYZ", xyz(0.515121, 0.241196, -0.001053)),
        (b"gXYZ", xyz(0.291977, 0.692245, 0.041885)),
        (b"bXYZ", xyz(0.157104, 0.066574, 0.784073)),
        (b"rTRC", curve.clone()),
        (b"gTRC", curve.clone()),
        (b"bTRC", curve),
    ];
    let table_len = 4 + 12 * tags.len();
    let mut data = Vec::new();
    let mut table = (tags.len() as u32).to_be_bytes().to_vec();
    for (signature, tag) in &tags {
        let offset = 128 + table_len + data.len();
        table.extend(*signature);
        table.extend((offset as u32).to_be_bytes());
        table.extend((tag.len() as u32).to_be_bytes());
        data.extend(tag);
    }
    let size = 128 + table_len + data.len();
    let mut header = vec![0u8; 128];
    header[0..4].copy_from_slice(&(size as u32).to_be_bytes());
    header[8..12].copy_from_slice(&0x0210_0000u32.to_be_bytes());
    header[12..16].copy_from_slice(b"mntr");
    header[16..20].copy_from_slice(b"RGB ");
    header[20..24].copy_from_slice(b"XYZ ");
    header[36..40].copy_from_slice(b"acsp");
    for (i, v) in [0.9642, 1.0, 0.8249].into_iter().enumerate() {
        header[68 + 4 * i..72 + 4 * i].copy_from_slice(&fixed(v));
    }
    [header, table, data].concat()
}

/// A flat JPEG of `rgb`, with `profile` embedded as an APP2 segment when given.
fn flat_jpeg(rgb: [u8; 3], profile: Option<&[u8]>) -> Vec<u8> {
    let image = image::DynamicImage::ImageRgb8(RgbImage::from_pixel(32, 32, Rgb(rgb)));
    let options = encode::EncodeOptions {
        quality: 100,
        ..opts()
    };
    let jpeg = encode::encode(&image, Format::Jpeg, options).unwrap();
    let Some(profile) = profile else {
        return jpeg;
    };
    let segment = [b"ICC_PROFILE\0\x01\x01", profile].concat();
    metadata::with_jpeg_segment(&jpeg, 0xE2, &segment)
}

/// A Display P3 picture is converted to sRGB: sRGB's pure red, written in P3's numbers
/// (234, 51, 35), comes out as pure red; the same numbers without a profile stay as they are.
#[test]
fn wide_gamut_inputs_are_converted_to_srgb() {
    let profile = display_p3_profile();
    let centre = |bytes: &[u8]| {
        let out = run(bytes, "w-16,f-png", FormatChoice::default()).unwrap();
        decode_output(&out).to_rgb8().get_pixel(8, 8).0
    };
    let tagged = centre(&flat_jpeg([234, 51, 35], Some(&profile)));
    assert!(
        tagged[0] >= 245 && tagged[1] <= 20 && tagged[2] <= 20,
        "P3 (234,51,35) became {tagged:?}, expected about sRGB (255,0,0)"
    );
    let untagged = centre(&flat_jpeg([234, 51, 35], None));
    let near = |a: u8, b: u8| (a as i32 - b as i32).abs() <= 4;
    assert!(
        near(untagged[0], 234) && near(untagged[1], 51) && near(untagged[2], 35),
        "untagged pixels changed: {untagged:?}"
    );
}

/// A TIFF block with an orientation (6: turned a quarter) and a `Software` text.
fn exif_block() -> Vec<u8> {
    let mut tiff = b"MM\0\x2a\0\0\0\x08".to_vec();
    tiff.extend(2u16.to_be_bytes());
    // Orientation, SHORT, 1 value: 6.
    tiff.extend([0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 6, 0, 0]);
    // Software, ASCII, 14 bytes at offset 8 + 2 + 24 + 4 = 38.
    tiff.extend([0x01, 0x31, 0, 2, 0, 0, 0, 14, 0, 0, 0, 38]);
    tiff.extend(0u32.to_be_bytes());
    tiff.extend(b"pixelway-test\0");
    tiff
}

/// `md-true` keeps the input's EXIF in JPEG and PNG outputs, with the orientation set upright
/// (the pixels were turned already); without it the output carries none.
#[test]
fn md_true_keeps_the_exif_with_the_orientation_applied() {
    let exif = [b"Exif\0\0".as_slice(), &exif_block()].concat();
    let input = metadata::with_jpeg_segment(&flat_jpeg([10, 200, 30], None), 0xE1, &exif);
    let read = |bytes: &[u8]| {
        exif::Reader::new()
            .read_from_container(&mut std::io::Cursor::new(bytes))
            .ok()
    };
    for text in ["w-16,md-true", "w-16,md-true,f-png"] {
        let out = run(&input, text, FormatChoice::default()).unwrap();
        let exif = read(&out.bytes).unwrap_or_else(|| panic!("{text}: no EXIF in the output"));
        let software = exif
            .get_field(exif::Tag::Software, exif::In::PRIMARY)
            .unwrap()
            .display_value()
            .to_string();
        assert!(software.contains("pixelway-test"), "{text}: {software}");
        let orientation = exif
            .get_field(exif::Tag::Orientation, exif::In::PRIMARY)
            .and_then(|f| f.value.get_uint(0));
        assert_eq!(orientation, Some(1), "{text}");
    }
    // Without md-true: stripped.
    let stripped = run(&input, "w-16", FormatChoice::default()).unwrap();
    assert!(read(&stripped.bytes).is_none(), "stripped by default");
}

/// Arithmetic expressions in sizes are resolved on the initial size (`iw`, `ih`) and on the
/// size the earlier steps left (`cw`, `ch`).
#[test]
fn size_expressions_resolve_when_their_step_runs() {
    let size = |text: &str| {
        let out = run(CUPS, text, FormatChoice::default()).unwrap();
        (out.width, out.height)
    };
    assert_eq!(size("w-iw_div_2"), (200, 125));
    assert_eq!(size("w-300:w-cw_div_3"), (100, 63));
    assert_eq!(size("h-ih_mul_0.8_add_iw_mul_0.1"), (384, 240));
    // Positions too: the right half of the 400 px picture, extracted.
    assert_eq!(size("w-iw_div_2,h-ih,cm-extract,x-iw_div_2"), (200, 250));
    let right = run(
        &halves(200, 100),
        "w-iw_div_2,h-ih,cm-extract,x-iw_div_2",
        FormatChoice::default(),
    )
    .unwrap();
    let pixel = decode_output(&right).to_rgb8().get_pixel(10, 50).0;
    assert!(pixel[2] > 200 && pixel[0] < 50, "the blue half: {pixel:?}");
    assert!(matches!(
        run(
            CUPS,
            "w-10,h-10,cm-extract,x-iw_sub_iw_sub_1",
            FormatChoice::default()
        ),
        Err(ProcessError::Geometry(_))
    ));
    for bad in ["w-iw_div_0", "w-iw_mul_1000", "w-iw_sub_iw"] {
        assert!(
            matches!(
                run(CUPS, bad, FormatChoice::default()),
                Err(ProcessError::Geometry(_))
            ),
            "{bad}"
        );
    }
}

/// `bg-blurred` pads with the picture itself: above a red-left, blue-right picture the
/// padding is reddish on the left and bluish on the right (a solid black by default), and
/// darker with a negative brightness.
#[test]
fn blurred_padding_is_made_of_the_picture() {
    let input = halves(200, 100);
    let padded = |text: &str| {
        let out = run(&input, text, FormatChoice::default()).unwrap();
        decode_output(&out).to_rgb8()
    };
    let blurred = padded("w-200,h-200,cm-pad_resize,bg-blurred");
    assert_eq!(blurred.dimensions(), (200, 200));
    let (left, right) = (blurred.get_pixel(10, 10).0, blurred.get_pixel(190, 10).0);
    assert!(left[0] > 150 && left[2] < 100, "left padding {left:?}");
    assert!(right[2] > 150 && right[0] < 100, "right padding {right:?}");
    let darker = padded("w-200,h-200,cm-pad_resize,bg-blurred_10_N100")
        .get_pixel(10, 10)
        .0;
    assert!(darker[0] + 60 < left[0], "{darker:?} vs {left:?}");
    let black = padded("w-200,h-200,cm-pad_resize").get_pixel(10, 10).0;
    assert!(black.iter().all(|c| *c < 10), "{black:?}");
}
