//! Animations through the pipeline: every frame and its delay kept through resize, rotation
//! and layers, in GIF and in animated WebP (`f-auto` for a client that takes WebP); one frame
//! for still formats and `pg-`; too many frames refused before any decoding.

use super::*;
use image::codecs::gif::{GifDecoder, GifEncoder};
use image::codecs::webp::WebPDecoder;
use image::{AnimationDecoder, Delay, Frame, Rgba, RgbaImage};
use std::io::Cursor;

const LIMITS: Limits = Limits {
    max_input_pixels: 100_000_000,
    max_output_side: 8192,
    max_frames: 1000,
    time_budget: std::time::Duration::from_secs(60),
    max_memory: 1 << 30,
};

/// The colour of frame `i`: distinct and far from its neighbours.
fn colour(i: usize) -> [u8; 3] {
    [
        (i * 40 % 256) as u8,
        (255 - i * 20 % 256) as u8,
        ((i % 3) * 120) as u8,
    ]
}

fn delay_of(i: usize) -> u32 {
    30 + (i as u32 % 4) * 20
}

/// A 100x60 GIF of `count` frames, frame i filled with `colour(i)` but for a white 10x10 square
/// at its top-left corner, shown `delay_of(i)` ms.
fn gif(count: usize) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut encoder = GifEncoder::new_with_speed(&mut out, 30);
        for i in 0..count {
            let [r, g, b] = colour(i);
            let image = RgbaImage::from_fn(100, 60, |x, y| {
                if x < 10 && y < 10 {
                    Rgba([255, 255, 255, 255])
                } else {
                    Rgba([r, g, b, 255])
                }
            });
            let delay = Delay::from_numer_denom_ms(delay_of(i), 1);
            encoder
                .encode_frame(Frame::from_parts(image, 0, 0, delay))
                .unwrap();
        }
    }
    out
}

/// (frame images, delays in ms) of an animated GIF or WebP.
fn frames_of(bytes: &[u8]) -> (Vec<RgbaImage>, Vec<u32>) {
    let frames = match probe(bytes).unwrap().0 {
        InputKind::Gif => GifDecoder::new(Cursor::new(bytes))
            .unwrap()
            .into_frames()
            .collect_frames()
            .unwrap(),
        InputKind::Webp => WebPDecoder::new(Cursor::new(bytes))
            .unwrap()
            .into_frames()
            .collect_frames()
            .unwrap(),
        other => panic!("not an animation: {other:?}"),
    };
    let delays = frames
        .iter()
        .map(|f| {
            let (n, d) = f.delay().numer_denom_ms();
            n / d
        })
        .collect();
    (frames.into_iter().map(Frame::into_buffer).collect(), delays)
}

fn run(bytes: &[u8], text: &str, choice: FormatChoice) -> Result<Output, ProcessError> {
    let t = Transformation::parse(text, &|_| None).unwrap();
    process(bytes, &t, choice, LIMITS)
}

fn near(pixel: &Rgba<u8>, rgb: [u8; 3], tolerance: u8) -> bool {
    (0..3).all(|i| pixel[i].abs_diff(rgb[i]) <= tolerance)
}

#[test]
fn a_resized_gif_keeps_every_frame_and_delay() {
    let input = gif(12);
    let output = run(&input, "w-50", FormatChoice::default()).unwrap();
    assert_eq!(output.format, Format::Gif);
    assert_eq!((output.width, output.height), (50, 30));
    let (frames, delays) = frames_of(&output.bytes);
    assert_eq!(frames.len(), 12);
    assert_eq!(delays, (0..12).map(delay_of).collect::<Vec<_>>());
    for (i, frame) in frames.iter().enumerate() {
        assert_eq!(frame.dimensions(), (50, 30));
        assert!(near(frame.get_pixel(30, 20), colour(i), 24), "frame {i}");
        assert!(
            near(frame.get_pixel(1, 1), [255, 255, 255], 24),
            "frame {i}"
        );
    }
    // Rotation and flips happen to every frame: the white corner moves with them.
    let turned = run(&input, "w-50,rt-90,fl-v", FormatChoice::default()).unwrap();
    let (frames, _) = frames_of(&turned.bytes);
    assert_eq!(frames.len(), 12);
    for frame in &frames {
        assert_eq!(frame.dimensions(), (30, 50));
        assert!(near(frame.get_pixel(28, 48), [255, 255, 255], 24));
    }
}

#[test]
fn f_auto_gives_an_animated_webp_to_clients_that_take_webp() {
    let input = gif(8);
    let webp_client = FormatChoice {
        accepts_webp: true,
        best_format: true,
        ..FormatChoice::default()
    };
    let output = run(&input, "w-50,f-auto", webp_client).unwrap();
    assert_eq!(output.format, Format::Webp);
    let (frames, delays) = frames_of(&output.bytes);
    assert_eq!(frames.len(), 8);
    assert_eq!(delays, (0..8).map(delay_of).collect::<Vec<_>>());
    for (i, frame) in frames.iter().enumerate() {
        assert!(near(frame.get_pixel(30, 20), colour(i), 24), "frame {i}");
    }
    // Without WebP in Accept: still an animated GIF.
    let output = run(&input, "w-50,f-auto", FormatChoice::default()).unwrap();
    assert_eq!(output.format, Format::Gif);
    assert_eq!(frames_of(&output.bytes).0.len(), 8);
    // An animated WebP input stays animated, into GIF too.
    let webp = run(&input, "f-webp", FormatChoice::default()).unwrap();
    let back = run(&webp.bytes, "w-40,f-gif", FormatChoice::default()).unwrap();
    let (frames, delays) = frames_of(&back.bytes);
    assert_eq!((frames.len(), frames[0].dimensions()), (8, (40, 24)));
    assert_eq!(delays, (0..8).map(delay_of).collect::<Vec<_>>());
}

#[test]
fn still_formats_and_pg_give_one_frame() {
    let input = gif(5);
    let jpeg = run(&input, "w-50,f-jpg", FormatChoice::default()).unwrap();
    assert_eq!(jpeg.format, Format::Jpeg);
    let first = decode_rgba(&jpeg.bytes, u64::MAX).unwrap();
    assert!(near(first.get_pixel(30, 20), colour(0), 24));
    let third = run(&input, "pg-3,f-png", FormatChoice::default()).unwrap();
    let third = decode_rgba(&third.bytes, u64::MAX).unwrap();
    assert_eq!(third.dimensions(), (100, 60));
    assert!(near(third.get_pixel(50, 30), colour(2), 0));
    // pg- on a GIF with no still format named: that frame, as a still GIF.
    let still = run(&input, "pg-2", FormatChoice::default()).unwrap();
    assert_eq!(frames_of(&still.bytes).0.len(), 1);
    let err = run(&input, "pg-9", FormatChoice::default()).unwrap_err();
    assert!(err.to_string().contains("pg-9") && err.to_string().contains("5 frames"));
}

#[test]
fn layers_are_drawn_on_every_frame_and_frame_limits_hold() {
    let input = gif(6);
    let output = run(
        &input,
        "w-50:l-solid,bg-0000FF,w-10,h-10,lfo-bottom_right,l-end",
        FormatChoice::default(),
    )
    .unwrap();
    let (frames, _) = frames_of(&output.bytes);
    assert_eq!(frames.len(), 6);
    for frame in &frames {
        assert!(near(frame.get_pixel(45, 25), [0, 0, 255], 24));
    }
    // A 10,000-frame GIF is refused before a frame is decoded.
    let many = gif_of_tiny_frames(10_000);
    let err = run(&many, "w-10", FormatChoice::default()).unwrap_err();
    assert_eq!(err, ProcessError::TooManyFrames { limit: 1000 });
}

/// A 1x1 GIF of `count` frames, written quickly.
fn gif_of_tiny_frames(count: usize) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut encoder = gif::Encoder::new(&mut out, 1, 1, &[0, 0, 0, 255, 255, 255]).unwrap();
        for i in 0..count {
            let mut frame = gif::Frame::from_indexed_pixels(1, 1, vec![(i % 2) as u8], None);
            frame.delay = 2;
            encoder.write_frame(&frame).unwrap();
        }
    }
    out
}
