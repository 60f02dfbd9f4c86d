//! Animated images at the delivery edge, with URLs built by ImageKit's SDKs: a resized GIF
//! keeps its frames and delays; `f-auto` answers an animated WebP to a client that takes WebP
//! (with `Vary: Accept`) and a GIF otherwise; `ik-thumbnail.jpg` gives one JPEG frame (`pg-`
//! picks which) and keeps the file's privacy; a 10,000-frame GIF is refused.

use pixelway_testkit::multipart::Form;
use pixelway_testkit::{Pixelway, Sdk, UrlRequest, http_client};
use pixelway_transform::image::codecs::gif::{GifDecoder, GifEncoder};
use pixelway_transform::image::codecs::webp::WebPDecoder;
use pixelway_transform::image::{AnimationDecoder, Delay, Frame, Rgba, RgbaImage};
use pixelway_transform::pipeline::decode_rgba;
use reqwest::StatusCode;
use std::io::Cursor;

const BIN: &str = env!("CARGO_BIN_EXE_pixelway");
const KEY: &str = "private_animation_key";

const CONFIG: &str = r#"
[[account]]
id = "shop"
private_key = "private_animation_key"
public_key = "public_animation_key"
"#;

const FRAMES: usize = 10;

fn colour(i: usize) -> [u8; 3] {
    [
        (i * 25) as u8,
        200 - (i * 15) as u8,
        if i.is_multiple_of(2) { 40 } else { 220 },
    ]
}

fn delay_of(i: usize) -> u32 {
    40 + (i as u32 % 3) * 30
}

/// A 120x80 GIF of `FRAMES` frames, frame i filled with `colour(i)`, shown `delay_of(i)` ms.
fn animated_gif() -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut encoder = GifEncoder::new_with_speed(&mut out, 30);
        for i in 0..FRAMES {
            let [r, g, b] = colour(i);
            let image = RgbaImage::from_pixel(120, 80, Rgba([r, g, b, 255]));
            let delay = Delay::from_numer_denom_ms(delay_of(i), 1);
            encoder
                .encode_frame(Frame::from_parts(image, 0, 0, delay))
                .unwrap();
        }
    }
    out
}

/// A 1x1 GIF of `count` frames.
fn gif_of_tiny_frames(count: usize) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut encoder = gif::Encoder::new(&mut out, 1, 1, &[0, 0, 0, 255, 255, 255]).unwrap();
        for i in 0..count {
            let frame = gif::Frame::from_indexed_pixels(1, 1, vec![(i % 2) as u8], None);
            encoder.write_frame(&frame).unwrap();
        }
    }
    out
}

/// (frame size, frame count, delays in ms, centre colour of each frame).
fn frames_of(body: &[u8], content_type: &str) -> ((u32, u32), Vec<u32>, Vec<[u8; 3]>) {
    let frames = match content_type {
        "image/gif" => GifDecoder::new(Cursor::new(body))
            .unwrap()
            .into_frames()
            .collect_frames()
            .unwrap(),
        "image/webp" => WebPDecoder::new(Cursor::new(body))
            .unwrap()
            .into_frames()
            .collect_frames()
            .unwrap(),
        other => panic!("not an animation: {other}"),
    };
    let size = frames[0].buffer().dimensions();
    let delays = frames
        .iter()
        .map(|f| {
            let (n, d) = f.delay().numer_denom_ms();
            n / d
        })
        .collect();
    let centres = frames
        .iter()
        .map(|f| {
            let p = f.buffer().get_pixel(size.0 / 2, size.1 / 2);
            [p[0], p[1], p[2]]
        })
        .collect();
    (size, delays, centres)
}

fn near(a: [u8; 3], b: [u8; 3]) -> bool {
    (0..3).all(|i| a[i].abs_diff(b[i]) < 24)
}

async fn get(url: &str, accept: Option<&str>) -> (StatusCode, String, Option<String>, Vec<u8>) {
    let mut request = http_client().get(url);
    if let Some(accept) = accept {
        request = request.header("accept", accept);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_string())
    };
    let content_type = header("content-type").unwrap_or_default();
    let vary = header("vary");
    (
        status,
        content_type,
        vary,
        response.bytes().await.unwrap().to_vec(),
    )
}

fn sdk_url(server: &Pixelway, sdk: Sdk, src: &str, transformation: &str) -> String {
    let endpoint = server.url("/shop");
    UrlRequest {
        transformation,
        ..UrlRequest::new(&endpoint, src)
    }
    .build(sdk)
}

#[tokio::test]
async fn animations_stay_animated_through_sdk_built_urls() {
    let server = Pixelway::start(BIN, Some(CONFIG));
    server.put_media("shop", "anim.gif", &animated_gif());
    let expected_delays: Vec<u32> = (0..FRAMES).map(delay_of).collect();
    let check = |body: &[u8], content_type: &str, size: (u32, u32)| {
        let (got_size, delays, centres) = frames_of(body, content_type);
        assert_eq!(got_size, size, "{content_type}");
        assert_eq!(delays, expected_delays, "{content_type}");
        for (i, centre) in centres.iter().enumerate() {
            assert!(near(*centre, colour(i)), "frame {i}: {centre:?}");
        }
    };
    // Resized: a GIF with every frame and delay (the accounts's best format does not turn an
    // animation into a still WebP either).
    let resized = sdk_url(&server, Sdk::Python, "/anim.gif", r#"[{"width": 60}]"#);
    let (status, content_type, _, body) = get(&resized, None).await;
    assert_eq!(
        (status, content_type.as_str()),
        (StatusCode::OK, "image/gif")
    );
    check(&body, "image/gif", (60, 40));
    // f-auto with a browser's Accept: an animated WebP, the same frames; Vary: Accept.
    let auto = sdk_url(
        &server,
        Sdk::Node,
        "/anim.gif",
        r#"[{"width": 60, "format": "auto"}]"#,
    );
    let chrome = "image/avif,image/webp,image/apng,image/*,*/*;q=0.8";
    let (status, content_type, vary, body) = get(&auto, Some(chrome)).await;
    assert_eq!(
        (status, content_type.as_str()),
        (StatusCode::OK, "image/webp")
    );
    assert!(vary.unwrap_or_default().contains("Accept"));
    check(&body, "image/webp", (60, 40));
    let (_, content_type, _, body) = get(&auto, Some("image/*")).await;
    assert_eq!(content_type, "image/gif");
    check(&body, "image/gif", (60, 40));
}

#[tokio::test]
async fn thumbnails_give_one_jpeg_frame_and_keep_the_files_privacy() {
    let server = Pixelway::start(BIN, Some(CONFIG));
    server.put_media("shop", "anim.gif", &animated_gif());
    let first = sdk_url(&server, Sdk::Python, "/anim.gif/ik-thumbnail.jpg", "[]");
    let (status, content_type, _, body) = get(&first, None).await;
    assert_eq!(
        (status, content_type.as_str()),
        (StatusCode::OK, "image/jpeg")
    );
    let still = decode_rgba(&body, 100_000_000).unwrap();
    assert_eq!(still.dimensions(), (120, 80));
    let p = still.get_pixel(60, 40);
    assert!(near([p[0], p[1], p[2]], colour(0)));
    let third = sdk_url(
        &server,
        Sdk::Node,
        "/anim.gif/ik-thumbnail.jpg",
        r#"[{"page": 3, "width": 60}]"#,
    );
    assert!(third.contains("pg-3"), "{third}");
    let (status, content_type, _, body) = get(&third, None).await;
    assert_eq!(
        (status, content_type.as_str()),
        (StatusCode::OK, "image/jpeg")
    );
    let still = decode_rgba(&body, 100_000_000).unwrap();
    assert_eq!(still.dimensions(), (60, 40));
    let p = still.get_pixel(30, 20);
    assert!(near([p[0], p[1], p[2]], colour(2)), "{p:?}");
    let (status, _, _, body) = get(
        &server.url("/shop/tr:pg-40/anim.gif/ik-thumbnail.jpg"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(String::from_utf8_lossy(&body).contains("pg-40"));

    // A private animation: its thumbnail needs a signature too.
    let form = Form::new()
        .text("fileName", "secret.gif")
        .text("useUniqueFileName", "false")
        .text("isPrivateFile", "true")
        .file("file", "secret.gif", &animated_gif());
    let response = server.upload(KEY, form).await;
    assert_eq!(response.status(), StatusCode::OK);
    let unsigned = server.url("/shop/secret.gif/ik-thumbnail.jpg");
    let (status, _, _, _) = get(&unsigned, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let endpoint = server.url("/shop");
    let signed = UrlRequest {
        signing_key: Some(KEY),
        ..UrlRequest::new(&endpoint, "/secret.gif/ik-thumbnail.jpg")
    }
    .build(Sdk::Python);
    let (status, content_type, _, _) = get(&signed, None).await;
    assert_eq!(
        (status, content_type.as_str()),
        (StatusCode::OK, "image/jpeg")
    );
}

#[tokio::test]
async fn a_ten_thousand_frame_gif_is_refused() {
    let server = Pixelway::start(BIN, Some(CONFIG));
    server.put_media("shop", "long.gif", &gif_of_tiny_frames(10_000));
    let (status, _, _, body) = get(&server.url("/shop/tr:w-10/long.gif"), None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(String::from_utf8_lossy(&body).contains("frames"));
}
