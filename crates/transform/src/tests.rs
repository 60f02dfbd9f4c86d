//! Parser table tests, canonical forms, and generated inputs that must never panic.

use super::*;

fn parse(text: &str) -> Result<Transformation, ParseError> {
    Transformation::parse(text, &|name| match name {
        "thumb" => Some("w-200,h-200,c-at_max,f-auto".to_string()),
        "broken" => Some("w-abc".to_string()),
        _ => None,
    })
}

/// `text` parses, and its canonical text parses back to the same steps; returns that text.
fn assert_roundtrips(text: &str) -> String {
    let parsed = parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
    let canonical = parsed.canonical();
    let again = parse(&canonical).unwrap_or_else(|e| panic!("{text} → {canonical}: {e}"));
    assert_eq!(again.steps, parsed.steps, "{text} → {canonical}");
    canonical
}

#[test]
fn parses_every_essential_parameter() {
    let t = parse("w-300,h-0.5,ar-4-3,c-at_max,cm-pad_resize,fo-top_left,x-10,y-20,xc-5,yc-6,dpr-2,q-80,f-webp,pr-true,lo-false,bl-10,e-grayscale,e-sharpen-8,e-usm-2-1-0.8-0.024,e-contrast,rt-N90,fl-h_v,r-10_20_30_40,bg-F3F3F380,b-5_FF0000,t-true,md-false,di-@@path@@to@@img.jpg").unwrap();
    let s = &t.steps[0];
    assert_eq!(s.width, Some(Dimension::Pixels(300)));
    assert_eq!(s.height, Some(Dimension::Fraction(0.5)));
    assert_eq!(s.aspect_ratio, Some((4, 3)));
    assert_eq!(s.crop, Some(Crop::AtMax));
    assert_eq!(s.crop_mode, Some(CropMode::PadResize));
    assert_eq!(s.focus, Some(Focus::TopLeft));
    assert_eq!(
        (s.x, s.y, s.x_center, s.y_center),
        (
            Some(Coordinate::Pixels(10)),
            Some(Coordinate::Pixels(20)),
            Some(Coordinate::Pixels(5)),
            Some(Coordinate::Pixels(6))
        )
    );
    assert_eq!(s.dpr, Some(Dpr::Factor(2.0)));
    assert_eq!(s.quality, Some(80));
    assert_eq!(s.format, Some(Format::Webp));
    assert_eq!((s.progressive, s.lossless), (Some(true), Some(false)));
    assert_eq!(s.blur, Some(10));
    assert!(s.grayscale && s.contrast);
    assert_eq!(s.sharpen, Some(8));
    assert_eq!(s.unsharp.unwrap().amount, 0.8);
    assert_eq!(s.rotation, Some(Rotation::Degrees(270)));
    assert_eq!(s.flip, Some(Flip::Both));
    assert_eq!(s.radius, Some(Radius::Corners([10, 20, 30, 40])));
    assert_eq!(
        s.background,
        Some(Color {
            r: 0xF3,
            g: 0xF3,
            b: 0xF3,
            a: 206
        })
    );
    assert_eq!(
        s.border,
        Some(Border {
            width: 5,
            color: Color {
                r: 255,
                g: 0,
                b: 0,
                a: 255
            }
        })
    );
    assert_eq!(s.trim, Some(10));
    assert_eq!(s.metadata, Some(false));
    assert_eq!(s.default_image.as_deref(), Some("path/to/img.jpg"));
    assert_eq!(t.default_image(), Some("path/to/img.jpg"));
}

#[test]
fn canonical_form_ignores_parameter_order() {
    let a = parse("w-300,h-200,q-80").unwrap();
    let b = parse("q-80,h-200,w-300").unwrap();
    assert_eq!(a.canonical(), b.canonical());
    assert_eq!(a.canonical(), "w-300,h-200,q-80");
    assert_ne!(
        parse("w-300:h-200").unwrap().canonical(),
        parse("h-200:w-300").unwrap().canonical()
    );
    // The canonical text parses back to the same transformation.
    let t = parse("rt-N90,bg-red,r-max,e-grayscale,orig-true,di-a@@b.jpg,ar-4_3,b-2_fff").unwrap();
    assert_eq!(parse(&t.canonical()).unwrap().steps, t.steps);
}

#[test]
fn layers_parse_as_the_sdks_write_them() {
    use crate::layers::{Align, FontFamily, Source};
    let t = parse("w-400:l-image,i-logos@@brand.png,lfo-bottom_right,w-50,l-end,l-text,ie-SGVsbG8sIHdvcmxkIQ==,lx-bw_mul_0.1,ly-N10,fs-30,co-FFFFFF,bg-000000,pa-10_20,tg-b_i,ia-center,w-200,lh-20,r-5,rt-10,ff-fonts@@My.ttf,al-5,l-end").unwrap();
    let layers = &t.steps[1].layers;
    assert_eq!(layers.len(), 2);
    assert_eq!(layers[0].source, Source::Image("logos/brand.png".into()));
    assert_eq!(layers[0].position.focus, Some(Focus::BottomRight));
    assert_eq!(layers[0].step.width, Some(Dimension::Pixels(50)));
    let text = &layers[1];
    assert_eq!(text.source, Source::Text("Hello, world!".into()));
    assert!(text.position.y.unwrap().from_far_edge);
    assert_eq!(text.text.padding, Some([10, 20, 10, 20]));
    assert!(text.text.typography.bold && text.text.typography.italic);
    assert_eq!(text.text.align, Some(Align::Center));
    assert_eq!(
        text.text.family,
        Some(FontFamily::Library("fonts/My.ttf".into()))
    );
    assert_eq!(text.alpha, Some(5));
    assert_eq!(text.step.rotation, Some(Rotation::Degrees(10)));
    assert_eq!(t.layer_inputs(), ["logos/brand.png", "fonts/My.ttf"]);
    // The SDK's solid block, and nesting.
    let solid = parse("l-image,i-ik_canvas,bg-FF0000,w-100,h-50,l-end").unwrap();
    assert!(matches!(solid.steps[0].layers[0].source, Source::Solid(c) if c.r == 255));
    assert!(solid.layer_inputs().is_empty());
    let nested = parse("l-image,i-a.png,lxc-30,lap-center,w-100,l-text,i-x,l-end,l-end").unwrap();
    assert_eq!(nested.steps[0].layers[0].step.layers.len(), 1);
    // Every form reads back from its canonical text, and different layers never share it.
    for text in [
        "w-400:l-image,i-logos@@brand.png,lfo-bottom_right,w-50,l-end,l-text,ie-SGVsbG8sIHdvcmxkIQ==,lx-bw_mul_0.1,ly-N10,fs-30,co-FFFFFF,bg-000000,pa-10_20,tg-b_i,ia-center,w-200,lh-20,r-5,rt-10,ff-fonts@@My.ttf,al-5,l-end",
        "l-image,i-ik_canvas,bg-FF0000,w-100,h-50,l-end",
        "l-image,i-a.png,lxc-30,lap-center,w-100,l-text,i-x,l-end,l-end",
        "l-text,ie-YSxiOmMtZA==,l-end,l-solid,bg-00FF0050,l-end",
    ] {
        assert_roundtrips(text);
    }
    assert_ne!(
        parse("l-text,i-a,l-end").unwrap().canonical(),
        parse("l-text,i-b,l-end").unwrap().canonical()
    );
    assert_ne!(
        parse("l-image,i-a.png,l-end,l-image,i-b.png,l-end")
            .unwrap()
            .canonical(),
        parse("l-image,i-b.png,l-end,l-image,i-a.png,l-end")
            .unwrap()
            .canonical(),
        "layers are drawn in order"
    );
}

#[test]
fn effects_with_options_parse_and_print_canonically() {
    use crate::effects::{Distort, Stop};
    let t = parse("e-gradient-ld-top_left_from-FF000050_to-blue_sp-0.25,e-colorize-co-red_in-40,e-shadow-bl-3_st-60_x-N5_y-7,e-distort-p-0_0_N10_5_100_100_0_90").unwrap();
    let s = &t.steps[0];
    let g = s.gradient.unwrap();
    assert_eq!((g.direction, g.stop), (315, Stop::Fraction(0.25)));
    assert_eq!(g.from.a, 129, "opacity 50 of 99");
    assert_eq!(s.colorize.unwrap().intensity, 40);
    assert_eq!((s.shadow.unwrap().x, s.shadow.unwrap().y), (-5, 7));
    assert_eq!(
        s.distort,
        Some(Distort::Perspective([
            (0, 0),
            (-10, 5),
            (100, 100),
            (0, 90)
        ]))
    );
    for text in [
        "e-gradient",
        "e-gradient-sp-120",
        "e-colorize",
        "e-shadow",
        "e-distort-a-N45",
        &t.canonical(),
    ] {
        assert_roundtrips(text);
    }
    assert_ne!(
        parse("e-gradient").unwrap().canonical(),
        parse("e-gradient-sp-0.5").unwrap().canonical()
    );
    assert!(parse("z-2").unwrap_err().reason.contains("fo-custom"));
    for bad in [
        "e-gradient-ld-sideways",
        "e-gradient-sp-0",
        "e-colorize-in-101",
        "e-shadow-bl-16",
        "e-distort-p-1_2_3",
        "e-distort-a-0",
        "e-distort-q-1",
    ] {
        assert_eq!(parse(bad).unwrap_err().parameter, bad);
    }
}

#[test]
fn bad_layers_are_refused_naming_the_part() {
    let cases = [
        ("l-image,i-a.png", "l-image", "l-end"),
        ("l-end", "l-end", "without an open layer"),
        ("lx-10", "lx-10", "inside a layer"),
        ("l-image,l-end", "l-image", "input"),
        ("l-video,i-a.mp4,l-end", "l-video", "videos"),
        ("l-image,i-a.png,fs-20,l-end", "fs-20", "text layers"),
        ("l-image,i-..@@etc@@passwd,l-end", "l-image", "path"),
        ("l-image,i-a@@@/@b,l-end", "l-image", "path"),
        ("l-text,i-a,lm-multiply,l-end", "lm-multiply", "normal"),
        ("l-image,i-a.png,f-png,l-end", "l-image", "whole image"),
        ("l-image,i-ik_canvas,w-10,l-end", "l-image", "bg-"),
        ("l-text,i-a,ff-Comic,l-end", "ff-Comic", "DejaVuSans"),
        ("l-text,ie-!!!,l-end", "ie-!!!", "base64"),
        (
            "l-image,i-a,l-image,i-b,l-image,i-c,l-image,i-d,l-end,l-end,l-end,l-end",
            "l-image",
            "3 deep",
        ),
        ("w-bw_div_2", "w-bw_div_2", "inside a layer"),
    ];
    for (text, parameter, reason) in cases {
        let err = parse(text).expect_err(text);
        assert_eq!(err.parameter, parameter, "{text}: {err}");
        assert!(err.reason.contains(reason), "{text}: {err}");
    }
    let many = ["l-solid,bg-red,l-end"; layers::MAX_LAYERS + 1].join(",");
    assert!(parse(&many).unwrap_err().reason.contains("layers"));
    let long = format!("l-text,i-{},l-end", "a".repeat(layers::MAX_TEXT_CHARS + 1));
    assert!(parse(&long).is_err());
}

/// A value for every key a step takes (and every layer key): each must change the step and
/// survive its canonical text, or two different transformations would share a cached result.
/// A key added to the parser without a value here fails the first assertion.
#[test]
fn every_key_reaches_the_canonical_text() {
    let samples: &[(&str, &[&str])] = &[
        ("e-grayscale", &["e-grayscale"]),
        ("e-gradient", &["e-gradient", "e-gradient-ld-90_sp-0.5"]),
        ("e-colorize", &["e-colorize", "e-colorize-co-red_in-20"]),
        (
            "e-distort",
            &["e-distort-a-30", "e-distort-p-1_2_3_4_5_6_7_8"],
        ),
        ("e-shadow", &["e-shadow", "e-shadow-x-N3"]),
        ("e-contrast", &["e-contrast"]),
        ("e-sharpen", &["e-sharpen", "e-sharpen-20"]),
        ("e-usm", &["e-usm", "e-usm-1-2-0.5-0.1"]),
        ("orig", &["orig-true", "orig-false"]),
        ("dpr", &["dpr-2", "dpr-auto"]),
        ("pg", &["pg-3"]),
        ("di", &["di-a@@b.jpg"]),
        ("cm", &["cm-extract", "cm-pad_resize"]),
        (
            "fo",
            &["fo-top", "fo-auto", "fo-custom", "fo-custom_1_2_3_4"],
        ),
        ("z", &["fo-custom,z-2", "fo-custom_5_5_9_9,z-0.5"]),
        ("ar", &["ar-4-3"]),
        ("bg", &["bg-red", "bg-blurred_20_N10"]),
        ("bl", &["bl-5"]),
        ("fl", &["fl-h"]),
        ("lo", &["lo-true"]),
        ("md", &["md-true"]),
        ("pr", &["pr-true"]),
        ("rt", &["rt-90", "rt-auto"]),
        ("xc", &["xc-10", "xc-iw_div_2"]),
        ("yc", &["yc-10"]),
        ("w", &["w-10", "w-0.5", "w-auto", "w-iw_div_3"]),
        ("h", &["h-10"]),
        ("c", &["c-force"]),
        ("x", &["x-3"]),
        ("y", &["y-4"]),
        ("q", &["q-50"]),
        ("f", &["f-webp", "f-orig"]),
        ("r", &["r-max", "r-1_2_3_4"]),
        ("b", &["b-2_FF0000"]),
        ("t", &["t-true", "t-40"]),
        ("o", &["o-40"]),
    ];
    for key in table::PARAMS.iter().map(|row| row.key) {
        assert!(
            samples.iter().any(|(k, _)| *k == key),
            "no sample value for {key}: add one here"
        );
    }
    let layer_samples = [
        "l-image,i-a.png,l-end",
        "l-image,ie-Yi5wbmc=,l-end",
        "l-text,i-hi,l-end",
        "l-solid,bg-red,l-end",
        "l-image,i-ik_canvas,bg-00FF00,l-end",
        "l-image,i-a.png,lx-3,l-end",
        "l-image,i-a.png,ly-N3,l-end",
        "l-image,i-a.png,lxc-bw_div_2,l-end",
        "l-image,i-a.png,lyc-4,l-end",
        "l-image,i-a.png,lfo-top,l-end",
        "l-image,i-a.png,lap-center,l-end",
        "l-image,i-a.png,lm-normal,al-3,l-end",
        "l-text,i-hi,fs-30,l-end",
        "l-text,i-hi,ff-serif,l-end",
        "l-text,i-hi,ff-f@@x.ttf,l-end",
        "l-text,i-hi,co-red,l-end",
        "l-text,i-hi,tg-b_strikethrough,l-end",
        "l-text,i-hi,ia-right,l-end",
        "l-text,i-hi,pa-1_2_3,l-end",
        "l-text,i-hi,lh-30,l-end",
        "l-image,i-a.png,w-10,l-text,i-x,l-end,l-end",
    ];
    let mut seen = std::collections::HashSet::new();
    let all = samples
        .iter()
        .flat_map(|(_, values)| values.iter().copied())
        .chain(layer_samples);
    for text in all {
        let parsed = parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_ne!(parsed.steps[0], Step::default(), "{text} changes nothing");
        let canonical = assert_roundtrips(text);
        assert!(
            seen.insert(canonical.clone()),
            "{text} prints as another sample: {canonical}"
        );
    }
}

#[test]
fn named_transformations_expand_in_place() {
    let t = parse("n-thumb:rt-90").unwrap();
    assert_eq!(t.steps.len(), 2);
    assert_eq!(t.steps[0].crop, Some(Crop::AtMax));
    assert!(t.has_explicit_parameters);
    assert!(!parse("n-thumb").unwrap().has_explicit_parameters);
    assert_eq!(parse("n-nope").unwrap_err().parameter, "n-nope");
    assert!(parse("n-broken").unwrap_err().reason.contains("w-abc"));
    assert!(
        parse("n-thumb,w-10").is_err(),
        "n- must be alone in its step"
    );
}

#[test]
fn errors_name_the_parameter() {
    let cases = [
        ("w-abc", "w-abc"),
        ("w-0", "w-0"),
        ("w-1.5", "w-1.5"),
        ("h-", "h-"),
        ("q-101", "q-101"),
        ("c-squash", "c-squash"),
        ("fo-face", "fo-face"),
        ("f-bmp", "f-bmp"),
        ("rt-400", "rt-400"),
        ("bg-GGGGGG", "bg-GGGGGG"),
        ("zz-1", "zz-1"),
        ("w-100,,h-10", ""),
        ("w-100::h-10", ""),
        ("l-image", "l-image"),
        ("e-grayscale-5", "e-grayscale-5"),
        ("di-..@@etc@@passwd", "di-..@@etc@@passwd"),
        ("dpr-9", "dpr-9"),
        ("w-99999999999999", "w-99999999999999"),
        // Found by the fuzzer: a literal '/' made the canonical form ambiguous.
        ("di-a@@@/@b", "di-a@@@/@b"),
    ];
    for (text, parameter) in cases {
        let err = parse(text).expect_err(text);
        assert_eq!(err.parameter, parameter, "{text}: {err}");
        assert!(err.to_string().contains("invalid transformation parameter"));
    }
    assert!(parse("l-image").unwrap_err().reason.contains("l-end"));
    assert!(
        parse("e-bgremove")
            .unwrap_err()
            .reason
            .contains("not supported")
    );
    assert!(parse("zz-1").unwrap_err().reason.contains("unknown"));
}

#[test]
fn longest_key_wins() {
    let t =
        parse("cm-extract,c-force,dpr-1.5,di-x.jpg,bl-3,b-1_000000,bg-000000,e-sharpen").unwrap();
    let s = &t.steps[0];
    assert_eq!(
        (s.crop_mode, s.crop),
        (Some(CropMode::Extract), Some(Crop::Force))
    );
    assert_eq!(s.dpr, Some(Dpr::Factor(1.5)));
    assert_eq!(s.default_image.as_deref(), Some("x.jpg"));
    assert_eq!(s.blur, Some(3));
    assert_eq!(s.sharpen, Some(5));
}

#[test]
fn colours() {
    assert_eq!(
        Color::parse("FFF"),
        Some(Color {
            r: 255,
            g: 255,
            b: 255,
            a: 255
        })
    );
    assert_eq!(Color::parse("00000000").unwrap().a, 0);
    assert_eq!(Color::parse("00000099").unwrap().a, 255);
    assert_eq!(Color::parse("000000AA"), None, "opacity is decimal 00-99");
    assert_eq!(
        Color::parse("navy"),
        Some(Color {
            r: 0,
            g: 0,
            b: 128,
            a: 255
        })
    );
    assert_eq!(Color::parse("F3F3F350").unwrap().to_string(), "F3F3F350");
}

/// Generated inputs from the grammar's pieces: parsing never panics, and whatever parses has a
/// canonical form that parses back to the same steps.
#[test]
fn generated_inputs_roundtrip_or_fail_cleanly() {
    let pieces = [
        "w-",
        "h-",
        "300",
        "0.5",
        "c-",
        "at_max",
        "cm-",
        "extract",
        "fo-",
        "auto",
        ",",
        ":",
        "-",
        "_",
        "q-",
        "80",
        "f-",
        "webp",
        "rt-",
        "N",
        "90",
        "bg-",
        "FF0000",
        "n-",
        "thumb",
        "e-usm",
        "r-",
        "max",
        "b-",
        "di-",
        "@@",
        "é",
        "%",
        "orig-true",
        "orig-false",
        "x-",
        "1",
        "l-image,",
        "l-text,",
        "l-solid,",
        ",l-end",
        "i-",
        "ie-",
        "YSxi",
        "lx-",
        "ly-N",
        "lfo-",
        "bottom_right",
        "bw_mul_0.5",
        "fs-",
        "co-",
        "pa-",
        "tg-b",
        "ik_canvas",
        "al-",
        "e-gradient",
        "-ld-",
        "e-shadow-",
        "x-N",
        "e-distort-a-",
        "e-colorize-co-",
    ];
    let mut state: u64 = 0x2545F4914F6CDD1D;
    for _ in 0..100_000 {
        let mut text = String::new();
        for _ in 0..(state % 9 + 1) {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            text.push_str(pieces[(state % pieces.len() as u64) as usize]);
        }
        if let Ok(t) = parse(&text) {
            let canonical = t.canonical();
            let again =
                parse(&canonical).unwrap_or_else(|e| panic!("{text:?} → {canonical:?}: {e}"));
            assert_eq!(again.steps, t.steps, "{text:?} → {canonical:?}");
        }
    }
}

/// `w-auto` and `dpr-auto` take the request's client hints; without them the original width and
/// a factor of 1. The canonical text names the resolved values (so results are cached per value).
#[test]
fn client_hints_resolve_auto_width_and_dpr() {
    let parsed = Transformation::parse("w-auto,dpr-auto:h-300,dpr-auto", &|_| None).unwrap();
    assert_eq!(parsed.canonical(), "w-auto,dpr-auto:h-300,dpr-auto");
    assert_eq!(parsed.steps[0].width, Some(Dimension::Auto));
    let hinted = |width, dpr| {
        let mut t = parsed.clone();
        let used = t.resolve_client_hints(ClientHints { width, dpr });
        (t.canonical(), used)
    };
    let both = UsedHints {
        width: true,
        dpr: true,
    };
    assert_eq!(
        hinted(Some(640), Some(2.0)),
        ("w-640,dpr-2:h-300,dpr-2".into(), both)
    );
    assert_eq!(hinted(None, None), ("h-300".into(), both));
    assert_eq!(
        hinted(Some(0), Some(9.0)),
        ("dpr-5:h-300,dpr-5".into(), both)
    );
    // Nothing auto: nothing used, nothing changed.
    let mut plain = Transformation::parse("w-300,dpr-2", &|_| None).unwrap();
    let used = plain.resolve_client_hints(ClientHints {
        width: Some(10),
        dpr: Some(3.0),
    });
    assert_eq!(
        (plain.canonical().as_str(), used),
        ("w-300,dpr-2", UsedHints::default())
    );
    assert!(Transformation::parse("h-auto", &|_| None).is_err());
}

#[test]
fn opacity_takes_a_percentage() {
    let t = parse("w-10,o-40").unwrap();
    assert_eq!(t.steps[0].opacity, Some(40));
    assert_eq!(t.canonical(), "w-10,o-40");
    for bad in ["o-101", "o-x", "o-"] {
        let error = parse(bad).unwrap_err();
        assert_eq!(error.parameter, bad);
    }
    // Keys that begin with an o are still theirs.
    assert_eq!(parse("orig-true").unwrap().steps[0].original, Some(true));
}

#[test]
fn blurred_backgrounds_parse_and_print_canonically() {
    for (text, canonical) in [
        ("cm-pad_resize,bg-blurred", "cm-pad_resize,bg-blurred"),
        ("bg-blurred_25_N15", "bg-blurred_25_N15"),
        ("bg-blurred_auto_20", "bg-blurred_auto_20"),
        ("bg-blurred_auto", "bg-blurred"),
        // One background per step: the last given.
        ("bg-red,bg-blurred", "bg-blurred"),
        ("bg-blurred,bg-red", "bg-FF0000"),
    ] {
        assert_eq!(parse(text).unwrap().canonical(), canonical, "{text}");
    }
    for bad in [
        "bg-blurred_0",
        "bg-blurred_25_300",
        "bg-blurred_x",
        "bg-blurred_5_5_5",
    ] {
        assert_eq!(parse(bad).unwrap_err().parameter, bad);
    }
}
