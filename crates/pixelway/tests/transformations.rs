//! Transformations at the delivery edge, with URLs built by ImageKit's Python SDK: bad
//! parameters answer 400 naming them, named transformations expand (and an endpoint may require
//! them), `orig-true` returns the original, `di-` names the default image.

use pixelway_testkit::{Pixelway, imagekit_url};
use pixelway_transform::image::{Rgb, RgbImage, Rgba, RgbaImage};
use pixelway_transform::pipeline::{InputKind, decode_rgba, probe};
use reqwest::StatusCode;

const BIN: &str = env!("CARGO_BIN_EXE_pixelway");

const CONFIG: &str = r#"
[[account]]
id = "demo"
private_key = "private_demo_key"
public_key = "public_demo_key"

  [[account.endpoint]]
  identifier = "strict"
  named_transformations_only = true

[[account.named_transformation]]
name = "original"
transformation = "orig-true"

[[account.named_transformation]]
name = "thumb"
transformation = "w-200,h-200,c-at_max,f-auto"

[[account]]
id = "avif-first"
private_key = "private_avif_key"
public_key = "public_avif_key"
auto_avif = true

[[account]]
id = "as-stored"
private_key = "private_plain_key"
public_key = "public_plain_key"
use_best_format = false
"#;

const CUPS: &[u8] = include_bytes!("../assets/samples/cups.jpg"); // 400x250
const FLOWER: &[u8] = include_bytes!("../assets/samples/fresh-flower.jpg"); // 1600x1203
const HEIC: &[u8] = include_bytes!("../../transform/tests/fixtures/cups.heic"); // 400x250

fn start() -> Pixelway {
    let server = Pixelway::start(BIN, Some(CONFIG));
    server.put_media("demo", "samples/cups.jpg", CUPS);
    server.put_media("demo", "defaults/missing.jpg", FLOWER);
    server.put_media("demo", "test/dir with space/\u{fc}.jpg", CUPS);
    server.put_media("demo", "halves.png", &halves_png());
    server
}

/// 200x100: left half red, right half blue.
fn halves_png() -> Vec<u8> {
    halves_png_of(200, 100)
}

/// `width`x`height`: left half red, right half blue.
fn halves_png_of(width: u32, height: u32) -> Vec<u8> {
    let img = RgbImage::from_fn(width, height, |x, _| {
        if x < width / 2 {
            Rgb([255, 0, 0])
        } else {
            Rgb([0, 0, 255])
        }
    });
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, pixelway_transform::image::ImageFormat::Png)
        .unwrap();
    out.into_inner()
}

/// (kind, width, height) of a response body.
fn shape(bytes: &[u8]) -> (InputKind, u32, u32) {
    probe(bytes).unwrap_or_else(|e| panic!("not an image: {e}"))
}

fn pixels(bytes: &[u8]) -> RgbaImage {
    decode_rgba(bytes, 100_000_000).unwrap()
}

fn close(p: &Rgba<u8>, rgb: [u8; 3]) -> bool {
    (0..3).all(|c| (p[c] as i32 - rgb[c] as i32).abs() < 40)
}

async fn get(url: &str) -> reqwest::Response {
    get_with(url, "*/*").await
}

async fn get_with(url: &str, accept: &str) -> reqwest::Response {
    let client = pixelway_testkit::http_client();
    client
        .get(url)
        .header("accept", accept)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn bad_transformations_answer_400_naming_the_parameter() {
    let server = start();
    let endpoint = server.url("/demo");
    let cases = [
        (
            imagekit_url(
                &endpoint,
                "/samples/cups.jpg",
                r#"[{"width": "abc"}]"#,
                "path",
            ),
            "w-abc",
        ),
        (
            imagekit_url(
                &endpoint,
                "/samples/cups.jpg",
                r#"[{"quality": 500}]"#,
                "query",
            ),
            "q-500",
        ),
        (
            imagekit_url(
                &endpoint,
                "/samples/cups.jpg",
                r#"[{"named": "nope"}]"#,
                "path",
            ),
            "n-nope",
        ),
        (
            imagekit_url(
                &endpoint,
                "/samples/cups.jpg",
                r#"[{"crop": "squash"}]"#,
                "query",
            ),
            "c-squash",
        ),
        (
            server.url("/demo/samples/cups.jpg?tr=w-300%2Cbogus-1"),
            "bogus-1",
        ),
    ];
    for (url, parameter) in cases {
        let response = get(&url).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{url}");
        let body = response.text().await.unwrap();
        assert!(body.contains(&format!("{parameter:?}")), "{url}: {body}");
    }
}

#[tokio::test]
async fn original_named_and_default_image() {
    let server = start();
    let endpoint = server.url("/demo");
    let original = imagekit_url(
        &endpoint,
        "/samples/cups.jpg",
        r#"[{"raw": "orig-true"}]"#,
        "query",
    );
    let response = get(&original).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.bytes().await.unwrap()[..], CUPS[..]);
    let named = imagekit_url(
        &endpoint,
        "/samples/cups.jpg",
        r#"[{"named": "original"}]"#,
        "path",
    );
    assert_eq!(get(&named).await.status(), StatusCode::OK);
    // A missing file with di- gets the named default image.
    let di = imagekit_url(
        &endpoint,
        "/no/such.jpg",
        r#"[{"default_image": "/defaults/missing.jpg"}]"#,
        "path",
    );
    let response = get(&di).await;
    assert_eq!(response.status(), StatusCode::OK, "{di}");
    assert_eq!(response.headers()["x-pixelway-default-image"], "true");
    assert_eq!(response.bytes().await.unwrap()[..], FLOWER[..]);
    // A di- that does not exist either: 404.
    let absent = imagekit_url(
        &endpoint,
        "/no/such.jpg",
        r#"[{"default_image": "nothing.jpg"}]"#,
        "path",
    );
    assert_eq!(get(&absent).await.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn endpoints_may_allow_named_transformations_only() {
    let server = start();
    let strict = server.url("/demo/strict");
    let explicit = imagekit_url(
        &strict,
        "/samples/cups.jpg",
        r#"[{"raw": "orig-true"}]"#,
        "path",
    );
    let response = get(&explicit).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("named transformations only")
    );
    let named = imagekit_url(
        &strict,
        "/samples/cups.jpg",
        r#"[{"named": "original"}]"#,
        "query",
    );
    assert_eq!(get(&named).await.status(), StatusCode::OK);
    // Without a transformation the endpoint serves as usual.
    assert_eq!(
        get(&format!("{strict}/samples/cups.jpg")).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn sdk_urls_resize_crop_pad_and_extract() {
    let server = start();
    let endpoint = server.url("/demo");
    // (SDK transformation, position, expected width, height)
    let cases = [
        (r#"[{"width": 300}]"#, "path", 300, 188),
        (r#"[{"width": 300}]"#, "query", 300, 188),
        (r#"[{"height": 100}]"#, "query", 160, 100),
        (r#"[{"width": 200, "height": 200}]"#, "path", 200, 200),
        (
            r#"[{"width": 300, "height": 300, "crop": "at_max"}]"#,
            "path",
            300,
            188,
        ),
        (
            r#"[{"width": 900, "height": 900, "crop": "at_max"}]"#,
            "query",
            400,
            250,
        ),
        (
            r#"[{"width": 100, "height": 100, "crop": "at_least"}]"#,
            "path",
            160,
            100,
        ),
        (
            r#"[{"width": 120, "height": 80, "crop": "force"}]"#,
            "path",
            120,
            80,
        ),
        (
            r#"[{"width": 300, "height": 300, "crop_mode": "pad_resize", "background": "F3F3F3"}]"#,
            "path",
            300,
            300,
        ),
        (
            r#"[{"width": 50, "height": 40, "crop_mode": "extract", "x": 10, "y": 10}]"#,
            "query",
            50,
            40,
        ),
        (r#"[{"width": 100, "dpr": 2}]"#, "path", 200, 125),
        (
            r#"[{"width": 400, "height": 300}, {"rotation": 90}]"#,
            "query",
            300,
            400,
        ),
        (
            r#"[{"width": 400, "height": 300}, {"rotation": 90}]"#,
            "path",
            300,
            400,
        ),
        (r#"[{"width": 0.5}]"#, "path", 200, 125),
        (
            r#"[{"width": 100, "aspect_ratio": "4-3"}]"#,
            "path",
            100,
            75,
        ),
    ];
    for (transformation, position, w, h) in cases {
        let url = imagekit_url(&endpoint, "/samples/cups.jpg", transformation, position);
        let response = get(&url).await;
        assert_eq!(response.status(), StatusCode::OK, "{url}");
        let (kind, width, height) = shape(&response.bytes().await.unwrap());
        assert_eq!((width, height), (w, h), "{url}");
        assert_eq!(kind, InputKind::Jpeg, "{url}");
    }
    // Padding is the requested colour.
    let url = imagekit_url(
        &endpoint,
        "/samples/cups.jpg",
        r#"[{"width": 300, "height": 300, "crop_mode": "pad_resize", "background": "FF0000"}]"#,
        "path",
    );
    let padded = pixels(&get(&url).await.bytes().await.unwrap());
    assert!(
        close(padded.get_pixel(150, 5), [255, 0, 0]),
        "{:?}",
        padded.get_pixel(150, 5)
    );
}

#[tokio::test]
async fn sdk_urls_focus_rotation_and_effects_move_the_right_pixels() {
    let server = start();
    let endpoint = server.url("/demo");
    let fetch = |transformation: &str| {
        let url = imagekit_url(&endpoint, "/halves.png", transformation, "path");
        async move { pixels(&get(&url).await.bytes().await.unwrap()) }
    };
    let left = fetch(r#"[{"width": 50, "height": 50, "focus": "left"}]"#).await;
    assert!(close(left.get_pixel(25, 25), [255, 0, 0]));
    let right = fetch(r#"[{"width": 50, "height": 50, "focus": "right"}]"#).await;
    assert!(close(right.get_pixel(25, 25), [0, 0, 255]));
    let turned = fetch(r#"[{"rotation": 90}]"#).await;
    assert_eq!(turned.dimensions(), (100, 200));
    assert!(
        close(turned.get_pixel(50, 20), [255, 0, 0]),
        "clockwise: red on top"
    );
    let flipped = fetch(r#"[{"flip": "h"}]"#).await;
    assert!(close(flipped.get_pixel(190, 50), [255, 0, 0]));
    let gray = fetch(r#"[{"grayscale": true}]"#).await;
    let p = gray.get_pixel(10, 10);
    assert!(p[0] == p[1] && p[1] == p[2], "{p:?}");
    // Opacity (`o-`): the same colours, half transparent.
    let faded = fetch(r#"[{"opacity": 50, "format": "png"}]"#).await;
    let p = faded.get_pixel(10, 10);
    assert!(
        close(p, [255, 0, 0]) && (120..=135).contains(&p[3]),
        "{p:?}"
    );
}

#[tokio::test]
async fn formats_negotiation_and_vary() {
    let server = start();
    let endpoint = server.url("/demo");
    let auto = imagekit_url(
        &endpoint,
        "/samples/cups.jpg",
        r#"[{"width": 100, "format": "auto"}]"#,
        "query",
    );
    let webp = get_with(&auto, "image/avif,image/webp,*/*").await;
    assert_eq!(webp.headers()["content-type"], "image/webp");
    assert_eq!(webp.headers()["vary"], "Accept");
    assert_eq!(shape(&webp.bytes().await.unwrap()).0, InputKind::Webp);
    let jpeg = get_with(&auto, "image/jpeg,*/*").await;
    assert_eq!(jpeg.headers()["content-type"], "image/jpeg");
    assert_eq!(jpeg.headers()["vary"], "Accept");
    let png = imagekit_url(
        &endpoint,
        "/samples/cups.jpg",
        r#"[{"width": 100, "format": "png"}]"#,
        "path",
    );
    let response = get_with(&png, "image/webp,*/*").await;
    assert_eq!(response.headers()["content-type"], "image/png");
    assert!(
        !response.headers().contains_key("vary"),
        "explicit format: no negotiation"
    );
    let named = imagekit_url(
        &endpoint,
        "/samples/cups.jpg",
        r#"[{"named": "thumb"}]"#,
        "path",
    );
    let response = get_with(&named, "image/webp").await;
    assert_eq!(
        shape(&response.bytes().await.unwrap()),
        (InputKind::Webp, 200, 125)
    );
    // The result cache answers the second time with the same ETag and a 304 works.
    let first = get(&png).await;
    let etag = first.headers()["etag"].to_str().unwrap().to_string();
    let client = pixelway_testkit::http_client();
    let again = client
        .get(&png)
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
}

#[tokio::test]
async fn format_settings_are_per_account() {
    let server = start();
    for account in ["demo", "avif-first", "as-stored"] {
        server.put_media(account, "cups.jpg", CUPS);
    }
    let accept = "image/avif,image/webp,*/*";
    let url = |account: &str, transformation: &str| {
        imagekit_url(
            &server.url(&format!("/{account}")),
            "/cups.jpg",
            transformation,
            "path",
        )
    };
    // Automatic AVIF is opt-in: on for one account, off (WebP) for the default.
    let auto = r#"[{"width": 60, "format": "auto"}]"#;
    let avif = get_with(&url("avif-first", auto), accept).await;
    assert_eq!(avif.headers()["content-type"], "image/avif");
    assert_eq!(avif.headers()["vary"], "Accept");
    let webp = get_with(&url("demo", auto), accept).await;
    assert_eq!(webp.headers()["content-type"], "image/webp");
    // "Use best format" off: a transformation without a format keeps the stored one.
    let plain = r#"[{"width": 60}]"#;
    let kept = get_with(&url("as-stored", plain), accept).await;
    assert_eq!(kept.headers()["content-type"], "image/jpeg");
    assert!(!kept.headers().contains_key("vary"));
    let best = get_with(&url("demo", plain), accept).await;
    assert_eq!(best.headers()["content-type"], "image/webp");
    assert_eq!(best.headers()["vary"], "Accept");
    // f-auto still negotiates where "use best format" is off.
    let asked = get_with(&url("as-stored", auto), accept).await;
    assert_eq!(asked.headers()["content-type"], "image/webp");
}

#[tokio::test]
async fn default_image_and_unicode_paths_are_transformed_too() {
    let server = start();
    let endpoint = server.url("/demo");
    let di = imagekit_url(
        &endpoint,
        "/no/such.jpg",
        r#"[{"width": 160, "default_image": "/defaults/missing.jpg"}]"#,
        "path",
    );
    let response = get(&di).await;
    assert_eq!(response.headers()["x-pixelway-default-image"], "true");
    assert_eq!(
        shape(&response.bytes().await.unwrap()),
        (InputKind::Jpeg, 160, 120)
    );
    let unicode = imagekit_url(
        &endpoint,
        "/test/dir with space/\u{fc}.jpg",
        r#"[{"width": 100}]"#,
        "path",
    );
    assert!(unicode.contains("%C3%BC"), "{unicode}");
    let response = get(&unicode).await;
    assert_eq!(response.status(), StatusCode::OK, "{unicode}");
    assert_eq!(
        shape(&response.bytes().await.unwrap()),
        (InputKind::Jpeg, 100, 63)
    );
}

#[tokio::test]
async fn a_full_queue_answers_503_with_retry_after() {
    // [limits] must come before the [[account]] tables in TOML.
    let config = format!("[limits]\ntransform_workers = 1\ntransform_queue = 0\n{CONFIG}");
    let server = Pixelway::start(BIN, Some(&config));
    server.put_media("demo", "big.jpg", FLOWER);
    let client = pixelway_testkit::http_client();
    let requests = (0..12).map(|i| {
        let url = server.url(&format!("/demo/tr:w-{},q-{}/big.jpg", 1500 - i, 90 + i % 5));
        let client = client.clone();
        async move { client.get(url).send().await.unwrap() }
    });
    let responses = futures::future::join_all(requests).await;
    let busy: Vec<_> = responses
        .iter()
        .filter(|r| r.status() == StatusCode::SERVICE_UNAVAILABLE)
        .collect();
    let ok = responses
        .iter()
        .filter(|r| r.status() == StatusCode::OK)
        .count();
    assert!(
        !busy.is_empty(),
        "some requests are refused while the single worker is busy"
    );
    assert!(ok >= 1, "the admitted one is served");
    assert!(busy.iter().all(|r| r.headers()["retry-after"] == "1"));
    // Requests for one and the same result share its work: none is refused for lack of a slot.
    let same = (0..8).map(|_| {
        let url = server.url("/demo/tr:w-1200,q-77/big.jpg");
        let client = client.clone();
        async move { client.get(url).send().await.unwrap().status() }
    });
    let statuses = futures::future::join_all(same).await;
    assert!(
        statuses.iter().all(|s| *s == StatusCode::OK),
        "{statuses:?}"
    );
}

#[tokio::test]
async fn avif_and_heic_originals_are_transformed() {
    let server = start();
    server.put_media("demo", "phone/cups.heic", HEIC);
    let avif = get(&server.url("/demo/tr:f-avif,q-90/samples/cups.jpg"))
        .await
        .bytes()
        .await
        .unwrap();
    server.put_media("demo", "phone/cups.avif", &avif);
    let endpoint = server.url("/demo");
    for (src, plain_format) in [
        ("/phone/cups.heic", "image/jpeg"),
        ("/phone/cups.avif", "image/avif"),
    ] {
        let url = imagekit_url(&endpoint, src, r#"[{"width": 100}]"#, "path");
        // Without WebP in Accept: HEIC becomes JPEG (browsers cannot show it), AVIF stays AVIF.
        let response = get_with(&url, "image/jpeg,*/*").await;
        assert_eq!(response.status(), StatusCode::OK, "{src}");
        assert_eq!(response.headers()["content-type"], plain_format, "{src}");
        let (_, w, h) = shape(&response.bytes().await.unwrap());
        assert_eq!((w, h), (100, 63), "{src}");
        let webp = get_with(&url, "image/webp,*/*").await;
        assert_eq!(webp.headers()["content-type"], "image/webp", "{src}");
        // The picture is the photo: its centre matches a resize of the JPEG it was made from.
        let pixels = pixels(&webp.bytes().await.unwrap());
        let reference = pixels_of_reference();
        let diff: i64 = (0..3)
            .map(|c| {
                (pixels.get_pixel(50, 31)[c] as i64 - reference.get_pixel(50, 31)[c] as i64).abs()
            })
            .sum();
        assert!(diff < 60, "{src}: centre pixel off by {diff}");
    }
}

/// cups.jpg decoded and resized to 100x63 by the same pipeline, as a reference picture.
fn pixels_of_reference() -> RgbaImage {
    let t = pixelway_transform::Transformation::parse("w-100,f-png", &|_| None).unwrap();
    let out =
        pixelway_transform::pipeline::process(CUPS, &t, Default::default(), Default::default())
            .unwrap();
    pixels(&out.bytes)
}

/// An untransformed URL, as ImageKit's "use best format" answers it: a JPEG or PNG comes back
/// as WebP (AVIF where the account allows it) to a client that accepts it, never larger than
/// the stored file, with `Vary: Accept`; everything else keeps its bytes (issue 10, item 3).
#[tokio::test]
async fn untransformed_urls_get_the_best_format_the_client_accepts() {
    let server = start();
    for account in ["avif-first", "as-stored"] {
        server.put_media(account, "cups.jpg", CUPS);
    }
    let tiny = tiny_png();
    server.put_media("demo", "tiny.png", &tiny);
    server.put_media("demo", "notes.txt", b"plain text, not an image");
    let gif = gif_bytes();
    server.put_media("demo", "dot.gif", &gif);
    let browser = "image/avif,image/webp,image/apng,image/*,*/*;q=0.8";

    let converted = get_with(&server.url("/demo/samples/cups.jpg"), browser).await;
    assert_eq!(converted.status(), StatusCode::OK);
    assert_eq!(converted.headers()["content-type"], "image/webp");
    assert_eq!(converted.headers()["vary"], "Accept");
    let etag = converted.headers()["etag"].clone();
    let body = converted.bytes().await.unwrap();
    assert!(body.len() < CUPS.len(), "{} ≥ {}", body.len(), CUPS.len());
    let info = probe(&body).unwrap();
    assert_eq!(info, (InputKind::Webp, 400, 250));
    // The second request is the cached result: same bytes, same ETag.
    let again = get_with(&server.url("/demo/samples/cups.jpg"), browser).await;
    assert_eq!(again.headers()["etag"], etag);
    assert_eq!(again.bytes().await.unwrap(), body);

    // AVIF where the account opted in.
    let avif = get_with(&server.url("/avif-first/cups.jpg"), browser).await;
    assert_eq!(avif.headers()["content-type"], "image/avif");

    // The stored bytes: a client without WebP (the answer still varies by Accept), orig-true,
    // an account with the setting off, GIF, non-images.
    let jpeg_only = get_with(&server.url("/demo/samples/cups.jpg"), "image/jpeg,*/*").await;
    assert_eq!(jpeg_only.headers()["vary"], "Accept");
    assert_eq!(&jpeg_only.bytes().await.unwrap()[..], CUPS);
    let original = get_with(&server.url("/demo/tr:orig-true/samples/cups.jpg"), browser).await;
    assert_eq!(&original.bytes().await.unwrap()[..], CUPS);
    let off = get_with(&server.url("/as-stored/cups.jpg"), browser).await;
    assert!(!off.headers().contains_key("vary"));
    assert_eq!(&off.bytes().await.unwrap()[..], CUPS);
    for (path, bytes) in [
        ("dot.gif", &gif[..]),
        ("notes.txt", b"plain text, not an image"),
    ] {
        let kept = get_with(&server.url(&format!("/demo/{path}")), browser).await;
        assert!(!kept.headers().contains_key("vary"), "{path}");
        assert_eq!(&kept.bytes().await.unwrap()[..], bytes, "{path}");
    }
    // Never larger than the stored file, whichever way it goes.
    for path in ["tiny.png", "halves.png", "samples/cups.jpg"] {
        let served = get_with(&server.url(&format!("/demo/{path}")), browser).await;
        let stored = std::fs::metadata(server.data_dir.join("media/demo").join(path))
            .unwrap()
            .len();
        assert!(
            served.bytes().await.unwrap().len() as u64 <= stored,
            "{path}"
        );
    }
    let tiny_served = get_with(&server.url("/demo/tiny.png"), browser).await;
    let content_type = tiny_served.headers()["content-type"].clone();
    let tiny_body = tiny_served.bytes().await.unwrap();
    if content_type == "image/png" {
        assert_eq!(
            &tiny_body[..],
            &tiny[..],
            "kept as stored when WebP is not smaller"
        );
    }
}

/// A 2×2 PNG of one colour, already as small as PNG gets.
fn tiny_png() -> Vec<u8> {
    let img = RgbImage::from_pixel(2, 2, Rgb([10, 20, 30]));
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, pixelway_transform::image::ImageFormat::Png)
        .unwrap();
    out.into_inner()
}

/// A one-frame 4×4 GIF.
fn gif_bytes() -> Vec<u8> {
    let img = RgbaImage::from_pixel(4, 4, Rgba([200, 10, 10, 255]));
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, pixelway_transform::image::ImageFormat::Gif)
        .unwrap();
    out.into_inner()
}

async fn get_with_headers(url: &str, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut request = pixelway_testkit::http_client().get(url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.unwrap()
}

/// `w-auto` and `dpr-auto` take the client hints (`Sec-CH-Width`, `Sec-CH-DPR`, or the older
/// `Width`/`DPR`); the answer says so in `Vary` and asks for them with `Accept-CH`; answers for
/// different hints never stand in for each other (memory tier and result cache alike).
#[tokio::test]
async fn client_hints_size_auto_width_and_dpr() {
    let server = start();
    let url = server.url("/demo/tr:w-auto/samples/cups.jpg");
    for round in 0..2 {
        for (hints, width) in [
            (&[("sec-ch-width", "100")][..], 100),
            (&[("sec-ch-width", "150")][..], 150),
            (&[("width", "120")][..], 120),
            (&[][..], 400),
        ] {
            let answer = get_with_headers(&url, hints).await;
            assert_eq!(answer.status(), StatusCode::OK);
            let vary = answer.headers()["vary"].to_str().unwrap().to_string();
            assert!(vary.contains("Sec-CH-Width"), "{vary}");
            assert_eq!(answer.headers()["accept-ch"], "Sec-CH-Width");
            let got = shape(&answer.bytes().await.unwrap()).1;
            assert_eq!(got, width, "round {round}, hints {hints:?}");
        }
    }
    let dpr = server.url("/demo/tr:w-100,dpr-auto/samples/cups.jpg");
    for (hints, width) in [
        (&[("sec-ch-dpr", "2")][..], 200),
        (&[("dpr", "1.5")][..], 150),
        (&[][..], 100),
    ] {
        let answer = get_with_headers(&dpr, hints).await;
        assert_eq!(answer.headers()["accept-ch"], "Sec-CH-DPR");
        assert_eq!(shape(&answer.bytes().await.unwrap()).1, width, "{hints:?}");
    }
    // A fixed size varies by nothing of the kind.
    let fixed = get_with_headers(
        &server.url("/demo/tr:w-100/samples/cups.jpg"),
        &[("sec-ch-width", "300")],
    )
    .await;
    assert!(!fixed.headers().contains_key("accept-ch"));
    assert_eq!(shape(&fixed.bytes().await.unwrap()).1, 100);
    let bad = get(&server.url("/demo/tr:h-auto/samples/cups.jpg")).await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
}

/// `?ik-attachment=true` makes the answer a download named after the file, transformed or not;
/// without it the answer is inline as before.
#[tokio::test]
async fn ik_attachment_answers_a_download_named_after_the_file() {
    let server = start();
    let plain = get(&server.url("/demo/samples/cups.jpg")).await;
    assert!(!plain.headers().contains_key("content-disposition"));
    for url in [
        "/demo/samples/cups.jpg?ik-attachment=true",
        "/demo/tr:w-100/samples/cups.jpg?ik-attachment=true",
        "/demo/samples/cups.jpg?tr=w-100&ik-attachment=true",
    ] {
        let answer = get(&server.url(url)).await;
        assert_eq!(answer.status(), StatusCode::OK, "{url}");
        assert_eq!(
            answer.headers()["content-disposition"],
            "attachment; filename=\"cups.jpg\"; filename*=UTF-8''cups%2Ejpg",
            "{url}"
        );
        assert!(probe(&answer.bytes().await.unwrap()).is_ok());
    }
    let unicode =
        get(&server.url("/demo/test/dir%20with%20space/%C3%BC.jpg?ik-attachment=true")).await;
    assert_eq!(
        unicode.headers()["content-disposition"],
        "attachment; filename=\"_.jpg\"; filename*=UTF-8''%C3%BC%2Ejpg"
    );
    // Asked twice, each parameter: refused as ambiguous.
    let twice =
        get(&server.url("/demo/samples/cups.jpg?ik-attachment=true&ik-attachment=false")).await;
    assert_eq!(twice.status(), StatusCode::BAD_REQUEST);
}

/// Arithmetic expressions in sizes, as ImageKit's SDK writes them; a bad one is a 400 naming it.
#[tokio::test]
async fn sdk_urls_with_size_expressions() {
    let server = start();
    let endpoint = server.url("/demo");
    let url = imagekit_url(
        &endpoint,
        "/samples/cups.jpg",
        r#"[{"width": "iw_div_2"}]"#,
        "path",
    );
    assert!(url.contains("w-iw_div_2"), "{url}");
    let half = get(&url).await;
    assert_eq!(half.status(), StatusCode::OK);
    assert_eq!(shape(&half.bytes().await.unwrap()).1, 200);
    let chained = imagekit_url(
        &endpoint,
        "/samples/cups.jpg",
        r#"[{"width": 300}, {"height": "ch_div_2"}]"#,
        "query",
    );
    let answer = get(&chained).await;
    let (_, width, height) = shape(&answer.bytes().await.unwrap());
    assert_eq!((width, height), (150, 94));
    let bad = get(&server.url("/demo/tr:w-iw_times_2/samples/cups.jpg")).await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    assert!(bad.text().await.unwrap().contains("w-iw_times_2"));
}

/// `fo-custom` crops around the file's custom coordinates (set at upload, changed through the
/// API — never served from the old ones afterwards); `cm-extract,fo-custom` cuts the region out;
/// `z-` zooms around it.
#[tokio::test]
async fn custom_focus_follows_the_files_coordinates() {
    use pixelway_testkit::api::Auth;
    use pixelway_testkit::multipart::Form;
    let server = start();
    // 400x200: left half red, right half blue; the region lies in the blue half.
    let halves = halves_png_of(400, 200);
    let form = Form::new()
        .text("fileName", "focus.png")
        .text("useUniqueFileName", "false")
        .text("customCoordinates", "250,50,100,100")
        .file("file", "focus.png", &halves);
    let response = server.upload("private_demo_key", form).await;
    assert_eq!(response.status(), StatusCode::OK);
    let uploaded: serde_json::Value =
        serde_json::from_str(&response.text().await.unwrap()).unwrap();
    let id = uploaded["fileId"].as_str().unwrap().to_string();
    let sample = |bytes: &[u8]| {
        let image = pixels(bytes);
        let p = image.get_pixel(image.width() / 2, image.height() / 2);
        [p[0], p[1], p[2]]
    };
    let square = server.url("/demo/tr:w-100,h-100,fo-custom,z-1,f-png/focus.png");
    for _ in 0..2 {
        let answer = get(&square).await;
        assert_eq!(answer.status(), StatusCode::OK);
        assert_eq!(sample(&answer.bytes().await.unwrap()), [0, 0, 255]);
    }
    let extract = get(&server.url("/demo/tr:cm-extract,fo-custom,f-png/focus.png")).await;
    let bytes = extract.bytes().await.unwrap();
    assert_eq!(shape(&bytes).1, 100, "the region's own size");
    // The coordinates move to the red half: the same URL follows at once.
    let body = serde_json::json!({ "customCoordinates": "50,50,100,100" }).to_string();
    let (status, answer) = server
        .api(
            Auth::Basic("private_demo_key"),
            "PATCH",
            &format!("/v1/files/{id}/details"),
            &body,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let moved = get(&square).await;
    assert_eq!(sample(&moved.bytes().await.unwrap()), [255, 0, 0]);
    // A file without coordinates: the centre, not an error; z- alone is refused.
    let centre = get(&server.url("/demo/tr:w-100,h-100,fo-custom/halves.png")).await;
    assert_eq!(centre.status(), StatusCode::OK);
    let zoom_alone = get(&server.url("/demo/tr:w-100,z-2/halves.png")).await;
    assert_eq!(zoom_alone.status(), StatusCode::BAD_REQUEST);
}
