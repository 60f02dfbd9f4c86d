//! Damaged originals, as real photo libraries hold them: a JPEG missing its end marker or cut
//! short, a PNG or GIF cut short. Browsers, libvips and ImageKit draw what is there; so does pixelway,
//! transformations included, with the warning in the log and in `x-pixelway-warning` (kept with
//! the cached result, so a hit says it too). A file with nothing decodable is still refused.

use pixelway_testkit::Pixelway;
use pixelway_transform::image::{self, RgbaImage};
use pixelway_transform::pipeline::decode_rgba;

const BIN: &str = env!("CARGO_BIN_EXE_pixelway");
const CUPS: &[u8] = include_bytes!("../assets/samples/cups.jpg");

const CONFIG: &str = r#"
[[account]]
id = "acme"
private_key = "private_acme"
public_key = "public_acme"
"#;

/// (status, `x-pixelway-warning`, body) of `path`.
async fn fetch(server: &Pixelway, path: &str) -> (u16, Option<String>, Vec<u8>) {
    let response = pixelway_testkit::http_client()
        .get(server.url(path))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let warning = response
        .headers()
        .get("x-pixelway-warning")
        .map(|v| v.to_str().unwrap().to_string());
    (status, warning, response.bytes().await.unwrap().to_vec())
}

/// Mean absolute difference of two same-sized images over rows `rows` (all channels).
fn difference(a: &RgbaImage, b: &RgbaImage, rows: std::ops::Range<u32>) -> f64 {
    let (mut sum, mut count) = (0u64, 0u64);
    for y in rows {
        for x in 0..a.width() {
            for c in 0..3 {
                sum += a.get_pixel(x, y)[c].abs_diff(b.get_pixel(x, y)[c]) as u64;
                count += 1;
            }
        }
    }
    sum as f64 / count as f64
}

/// The spread of the grey levels in rows `rows`: near 0 for a filled, featureless area.
fn spread(image: &RgbaImage, rows: std::ops::Range<u32>) -> f64 {
    let values: Vec<f64> = rows
        .flat_map(|y| (0..image.width()).map(move |x| (x, y)))
        .map(|(x, y)| image.get_pixel(x, y)[1] as f64)
        .collect();
    let mean = values.iter().sum::<f64>() / values.len() as f64;
    (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / values.len() as f64).sqrt()
}

#[tokio::test]
async fn truncated_jpegs_and_pngs_are_drawn_as_far_as_they_go() {
    let server = Pixelway::start(BIN, Some(CONFIG));
    // The sample is progressive (a cut one is blurred all over); a baseline JPEG is what pixelway
    // writes, so one made here is cut at 60% of its bytes, well past its headers.
    server.put_media("acme", "sample.jpg", CUPS);
    let (_, _, baseline) = fetch(&server, "/acme/tr:w-600,f-jpg,q-90/sample.jpg").await;
    let no_end_marker = &baseline[..baseline.len() - 2];
    let cut = &baseline[..baseline.len() * 6 / 10];
    server.put_media("acme", "whole.jpg", &baseline);
    server.put_media("acme", "no-end.jpg", no_end_marker);
    server.put_media("acme", "cut.jpg", cut);
    let mut png = Vec::new();
    decode_rgba(CUPS, u64::MAX)
        .unwrap()
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    server.put_media("acme", "whole.png", &png);
    server.put_media("acme", "cut.png", &png[..png.len() / 2]);
    // Cut inside its headers (this sample's frame header is at 67% of its bytes).
    server.put_media("acme", "nothing.jpg", &CUPS[..CUPS.len() / 2]);

    let (status, warning, whole) = fetch(&server, "/acme/tr:w-300,f-png/whole.jpg").await;
    assert_eq!(
        (status, warning),
        (200, None),
        "a sound file has no warning"
    );
    let whole = decode_rgba(&whole, u64::MAX).unwrap();
    let height = whole.height();

    // Missing only its end marker: all there, drawn as usual, with the warning.
    let (status, warning, body) = fetch(&server, "/acme/tr:w-300,f-png/no-end.jpg").await;
    assert_eq!(status, 200);
    let warning = warning.expect("x-pixelway-warning");
    assert!(warning.contains("Premature end of JPEG file"), "{warning}");
    let drawn = decode_rgba(&body, u64::MAX).unwrap();
    assert!(difference(&whole, &drawn, 0..height) < 1.0);

    // Cut at 60%: the top as in the whole file, the rest filled (featureless), as libvips does.
    let (status, warning, body) = fetch(&server, "/acme/tr:w-300,f-png/cut.jpg").await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    assert!(warning.is_some_and(|w| w.contains("Premature end")));
    let drawn = decode_rgba(&body, u64::MAX).unwrap();
    assert_eq!(drawn.dimensions(), whole.dimensions());
    assert!(
        difference(&whole, &drawn, 0..height / 4) < 1.0,
        "the top is the photo"
    );
    let bottom = height * 9 / 10..height;
    assert!(difference(&whole, &drawn, bottom.clone()) > 5.0);
    assert!(
        spread(&drawn, bottom) < 2.0,
        "the missing part is filled evenly"
    );
    // Served again from the memory tier: the warning stays with the answer.
    let (status, warning, _) = fetch(&server, "/acme/tr:w-300,f-png/cut.jpg").await;
    assert_eq!(status, 200);
    assert!(warning.is_some());

    // A PNG cut in half: its first rows drawn, the rest left empty.
    let (_, _, whole) = fetch(&server, "/acme/tr:w-300/whole.png").await;
    let whole = decode_rgba(&whole, u64::MAX).unwrap();
    let height = whole.height();
    let (status, warning, body) = fetch(&server, "/acme/tr:w-300/cut.png").await;
    assert_eq!(status, 200);
    assert!(warning.is_some_and(|w| w.contains("PNG")));
    let drawn = decode_rgba(&body, u64::MAX).unwrap();
    assert!(
        difference(&whole, &drawn, 0..height / 4) < 2.0,
        "the top is the photo"
    );
    assert!(spread(&drawn, height * 9 / 10..height) < 2.0);

    // A GIF cut short: the rows it holds, the rest transparent.
    let gif = noisy_gif(200, 100);
    server.put_media("acme", "whole.gif", &gif);
    server.put_media("acme", "cut.gif", &gif[..gif.len() * 6 / 10]);
    let (_, _, whole) = fetch(&server, "/acme/tr:w-100,f-png/whole.gif").await;
    let whole = decode_rgba(&whole, u64::MAX).unwrap();
    let (status, warning, body) = fetch(&server, "/acme/tr:w-100,f-png/cut.gif").await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    assert!(warning.is_some_and(|w| w.contains("GIF")));
    let drawn = decode_rgba(&body, u64::MAX).unwrap();
    assert!(
        difference(&whole, &drawn, 0..10) < 2.0,
        "the top is the picture"
    );
    assert!(
        (45..50).all(|y| (0..100).all(|x| drawn.get_pixel(x, y)[3] == 0)),
        "the missing rows are transparent"
    );

    // Nothing decodable: refused as before, naming why.
    let (status, _, body) = fetch(&server, "/acme/tr:w-300/nothing.jpg").await;
    assert_eq!(status, 400, "{}", String::from_utf8_lossy(&body));
    assert!(
        server
            .output()
            .iter()
            .any(|l| l.contains("the input is damaged")),
        "the warning is logged"
    );
}

/// A one-frame GIF of `width`×`height` noise on a 256-colour palette (so its compressed rows
/// take about equal room, and a cut at a share of its bytes lands at about that share of rows).
fn noisy_gif(width: u16, height: u16) -> Vec<u8> {
    let palette: Vec<u8> = (0..=255u8).flat_map(|i| [i, 255 - i, i / 2]).collect();
    let mut seed = 12345u32;
    let pixels: Vec<u8> = (0..width as u32 * height as u32)
        .map(|_| {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
            (seed >> 16) as u8
        })
        .collect();
    let mut out = Vec::new();
    {
        let mut encoder = gif::Encoder::new(&mut out, width, height, &palette).unwrap();
        let frame = gif::Frame::from_indexed_pixels(width, height, pixels, None);
        encoder.write_frame(&frame).unwrap();
    }
    out
}
