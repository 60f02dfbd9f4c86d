//! Overlay layers at the delivery edge, with URLs built by ImageKit's Python and Node SDKs from
//! their `overlay` objects: an image watermark in each corner, a text caption on a background
//! with padding, a solid block, a nested layer — each checked by sampling the output's pixels.
//! A bad layer is a 400 naming it; a missing layer file a 400 naming the file; a replaced
//! logo is never served stale (memory tier and result cache); a private logo needs a signature.

use pixelway_testkit::{Pixelway, Sdk, UrlRequest, http_client};
use pixelway_transform::image::{Rgba, RgbaImage};
use pixelway_transform::pipeline::decode_rgba;
use reqwest::StatusCode;

const BIN: &str = env!("CARGO_BIN_EXE_pixelway");
const KEY: &str = "private_overlay_key";

const CONFIG: &str = r#"
[[account]]
id = "shop"
private_key = "private_overlay_key"
public_key = "public_overlay_key"
"#;

const RED: [u8; 3] = [255, 0, 0];
const BLUE: [u8; 3] = [0, 0, 255];
const GREEN: [u8; 3] = [0, 255, 0];

fn png(width: u32, height: u32, rgb: [u8; 3]) -> Vec<u8> {
    let image = RgbaImage::from_pixel(width, height, Rgba([rgb[0], rgb[1], rgb[2], 255]));
    let mut out = std::io::Cursor::new(Vec::new());
    image
        .write_to(&mut out, pixelway_transform::image::ImageFormat::Png)
        .unwrap();
    out.into_inner()
}

/// A server with a 400x200 white base and a 40x40 red logo in its Media Library.
fn start() -> Pixelway {
    let server = Pixelway::start(BIN, Some(CONFIG));
    server.put_media("shop", "base.png", &png(400, 200, [255, 255, 255]));
    server.put_media("shop", "logos/brand.png", &png(40, 40, RED));
    server
}

/// The SDK's URL for `/base.png` with `transformation` (the SDK's JSON).
fn url(server: &Pixelway, sdk: Sdk, transformation: &str) -> String {
    let endpoint = server.url("/shop");
    UrlRequest {
        transformation,
        ..UrlRequest::new(&endpoint, "/base.png")
    }
    .build(sdk)
}

async fn fetch(url: &str) -> (StatusCode, Vec<u8>) {
    let response = http_client().get(url).send().await.unwrap();
    let status = response.status();
    (status, response.bytes().await.unwrap().to_vec())
}

async fn image(url: &str) -> RgbaImage {
    let (status, body) = fetch(url).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "{url}: {}",
        String::from_utf8_lossy(&body)
    );
    decode_rgba(&body, 100_000_000).unwrap()
}

fn is(pixel: &Rgba<u8>, rgb: [u8; 3]) -> bool {
    (0..3).all(|i| pixel[i].abs_diff(rgb[i]) < 40)
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

#[tokio::test]
async fn sdk_built_watermarks_go_to_each_corner() {
    let server = start();
    let corners = [
        ("top_left", (0, 0)),
        ("top_right", (370, 0)),
        ("bottom_left", (0, 170)),
        ("bottom_right", (370, 170)),
    ];
    for sdk in [Sdk::Python, Sdk::Node] {
        for (focus, (x, y)) in corners {
            let transformation = format!(
                r#"[{{"format": "png", "overlay": {{"type": "image", "input": "logos/brand.png",
                    "position": {{"focus": "{focus}"}}, "transformation": [{{"width": 30}}]}}}}]"#
            );
            let url = url(&server, sdk, &transformation);
            assert!(url.contains("l-image,i-logos@@brand.png"), "{url}");
            let out = image(&url).await;
            assert_eq!(out.dimensions(), (400, 200));
            assert_eq!(
                bounds(&out, |p| is(p, RED)),
                Some((x, y, 30, 30)),
                "{sdk:?} {focus}"
            );
            assert!(is(out.get_pixel(200, 100), [255, 255, 255]));
        }
    }
}

#[tokio::test]
async fn sdk_built_text_solid_and_nested_layers_draw_the_expected_pixels() {
    let server = start();
    for sdk in [Sdk::Python, Sdk::Node] {
        // A caption: white text on a black box with 10 px padding, 10 px from the bottom.
        let caption = r#"[{"format": "png", "overlay": {"type": "text", "text": "Summer sale, 30%",
            "position": {"y": "N10", "x": 10}, "transformation": [{"fontSize": 30,
            "fontColor": "FFFFFF", "background": "000000", "padding": 10}]}}]"#;
        let caption = match sdk {
            Sdk::Python => caption
                .replace("fontSize", "font_size")
                .replace("fontColor", "font_color"),
            Sdk::Node => caption.to_string(),
        };
        let url_text = url(&server, sdk, &caption);
        assert!(url_text.contains("l-text,ie-"), "{url_text}");
        let out = image(&url_text).await;
        let dark = bounds(&out, |p| is(p, [0, 0, 0])).expect("a black box");
        // DejaVu Sans at 30 px: 35 px a line, plus 10 px padding above and below.
        assert_eq!((dark.0, dark.3), (10, 55), "{dark:?}");
        assert_eq!(dark.1 + dark.3, 190, "10 px from the bottom: {dark:?}");
        assert!((270..=320).contains(&dark.2), "box width {dark:?}");
        let inside =
            pixelway_transform::image::imageops::crop_imm(&out, dark.0, dark.1, dark.2, dark.3)
                .to_image();
        let ink = bounds(&inside, |p| p[0] > 200 && p[1] > 200).expect("white text drawn");
        assert!(
            ink.0 >= 10 && ink.1 >= 10 && ink.2 > 150 && ink.3 > 15,
            "{ink:?}"
        );

        // A solid block at (10, 20), 100x50.
        let solid = r#"[{"format": "png", "overlay": {"type": "solidColor", "color": "00FF00",
            "position": {"x": 10, "y": 20}, "transformation": [{"width": 100, "height": 50}]}}]"#;
        let out = image(&url(&server, sdk, solid)).await;
        assert_eq!(bounds(&out, |p| is(p, GREEN)), Some((10, 20, 100, 50)));

        // Nested: a blue block in the top-left corner of the logo, the logo 100 px wide at
        // the base's top-left.
        let nested = r#"[{"format": "png", "overlay": {"type": "image", "input": "logos/brand.png",
            "position": {"focus": "top_left"}, "transformation": [{"width": 100, "overlay":
            {"type": "solidColor", "color": "0000FF", "position": {"focus": "bottom_right"},
            "transformation": [{"width": 20, "height": 20}]}}]}}]"#;
        let nested_url = url(&server, sdk, nested);
        assert_eq!(nested_url.matches("l-end").count(), 2, "{nested_url}");
        let out = image(&nested_url).await;
        assert_eq!(bounds(&out, |p| is(p, BLUE)), Some((80, 80, 20, 20)));
        assert!(is(out.get_pixel(10, 10), RED));
        assert!(is(out.get_pixel(150, 150), [255, 255, 255]));
    }
}

#[tokio::test]
async fn bad_or_missing_layers_are_400s_naming_them() {
    let server = start();
    let cases = [
        ("tr:l-image,i-logos@@brand.png/base.png", "l-image"),
        (
            "tr:l-image,i-logos@@brand.png,fs-20,l-end/base.png",
            "fs-20",
        ),
        ("tr:l-text,i-hi,lm-multiply,l-end/base.png", "lm-multiply"),
        ("tr:lx-10/base.png", "lx-10"),
        (
            "tr:l-image,i-logos@@missing.png,l-end/base.png",
            "logos/missing.png",
        ),
        (
            "tr:l-text,i-hi,ff-fonts@@none.ttf,l-end/base.png",
            "fonts/none.ttf",
        ),
    ];
    for (path, named) in cases {
        let (status, body) = fetch(&server.url(&format!("/shop/{path}"))).await;
        let body = String::from_utf8_lossy(&body);
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {body}");
        assert!(body.contains(named), "{path}: {body}");
    }
    // A layer file that is not an image is named too.
    server.put_media("shop", "notes.png", b"not an image at all");
    let (status, body) = fetch(&server.url("/shop/tr:l-image,i-notes.png,l-end/base.png")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(String::from_utf8_lossy(&body).contains("notes.png"));
}

/// Uploads (replacing) `folder/name` through the management API.
async fn upload(server: &Pixelway, folder: &str, name: &str, bytes: &[u8], private: bool) {
    server
        .upload_replacing(KEY, folder, name, bytes, private)
        .await;
}

#[tokio::test]
async fn a_replaced_logo_is_never_served_stale_and_a_private_one_needs_a_signature() {
    let server = start();
    upload(&server, "/logos", "mark.png", &png(40, 40, RED), false).await;
    let watermarked =
        server.url("/shop/tr:l-image,i-logos@@mark.png,lfo-top_left,f-png,l-end/base.png");
    let watermarked = watermarked.replace(",f-png,l-end", ",l-end,f-png");
    for _ in 0..2 {
        // The second answer comes from memory.
        assert!(is(image(&watermarked).await.get_pixel(5, 5), RED));
    }
    upload(&server, "/logos", "mark.png", &png(40, 40, BLUE), false).await;
    assert!(
        is(image(&watermarked).await.get_pixel(5, 5), BLUE),
        "the replaced logo, not the held answer"
    );
    // Changed behind pixelway's back, then purged: the new logo from then on.
    server.put_media("shop", "logos/mark.png", &png(40, 40, GREEN));
    let body = serde_json::json!({ "url": server.url("/shop/logos/mark.png") }).to_string();
    let (status, answer) = server
        .api(
            pixelway_testkit::api::Auth::Basic(KEY),
            "POST",
            "/v1/files/purge",
            &body,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    assert!(is(image(&watermarked).await.get_pixel(5, 5), GREEN));

    // A private logo: not drawn into an unsigned URL (and not said to exist), drawn into a
    // signed one.
    upload(&server, "/secret", "mark.png", &png(40, 40, BLUE), true).await;
    let transformation = r#"[{"format": "png", "overlay": {"type": "image",
        "input": "secret/mark.png", "position": {"focus": "top_left"}}}]"#;
    let unsigned = url(&server, Sdk::Python, transformation);
    let (status, body) = fetch(&unsigned).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(String::from_utf8_lossy(&body).contains("not found"));
    let endpoint = server.url("/shop");
    let signed = UrlRequest {
        transformation,
        signing_key: Some(KEY),
        ..UrlRequest::new(&endpoint, "/base.png")
    }
    .build(Sdk::Node);
    assert!(is(image(&signed).await.get_pixel(5, 5), BLUE), "{signed}");
}
