//! Pipeline throughput on a folder of images: `bench DIR THREADS SECONDS_PER_CASE`.
//! `bench make-gif DIR [WIDTH HEIGHT FRAMES NAME]` writes the animated GIF the animation case
//! reads (by default `anim_100f.gif`: 100 frames of a 480x270 window panning across a photo of
//! the set). `bench once FILE TRANSFORMATION` runs one transformation once and prints the
//! output's size (for measuring peak memory with `/usr/bin/time -f %M`).
//! Prints one line per case: `case images/s mean-output-bytes`, the mean taken over one pass of
//! every input (the same set sharp's script measures, whatever mix the timed runs completed). Run by `bench/transform.sh`, which runs sharp on
//! the same inputs in the same run and prints the ratios.

use pixelway_transform::Transformation;
use pixelway_transform::pipeline::{
    Budget, FormatChoice, LayerFiles, Limits, Stop, process_layered,
};
use std::time::{Duration, Instant};

/// (case name, input file suffix filter, transformation)
const CASES: &[(&str, &str, &str)] = &[
    ("jpeg->jpeg800", ".jpg", "w-800,q-80,f-jpg"),
    ("jpeg->webp800", ".jpg", "w-800,q-80,f-webp"),
    ("png->png800", ".png", "w-800,f-png"),
    ("png->webp800", ".png", "w-800,q-80,f-webp"),
    ("jpeg->avif800", ".jpg", "w-800,q-60,f-avif"),
    // A 20 MP photo to 800 px with a 200 px alpha PNG logo in the bottom-right corner.
    (
        "watermark800",
        "kleiber_6028x3391.jpg",
        "w-800,q-80,f-jpg,l-image,i-logo.png,w-200,lfo-bottom_right,l-end",
    ),
    ("gif100->w200", "anim_100f.gif", "w-200,f-gif"),
];

/// The logo the watermark case draws (an alpha PNG of the set).
const LOGO: &str = "emerald_1689x1800_alpha.png";

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("make-gif") {
        let number =
            |i: usize, default: u32| args.get(i).and_then(|s| s.parse().ok()).unwrap_or(default);
        let name = args.get(6).map_or("anim_100f.gif", String::as_str);
        let dir = args
            .get(2)
            .expect("usage: bench make-gif DIR [WIDTH HEIGHT FRAMES NAME]");
        make_gif(dir, (number(3, 480), number(4, 270)), number(5, 100), name);
        return;
    }
    if args.get(1).map(String::as_str) == Some("once") {
        let file = std::fs::read(args.get(2).expect("usage: bench once FILE TRANSFORMATION"))
            .expect("read");
        let text = args.get(3).expect("usage: bench once FILE TRANSFORMATION");
        let transformation = Transformation::parse(text, &|_| None).expect("transformation");
        let budget = Budget::start(Duration::from_secs(600), Stop::default());
        let limits = Limits {
            time_budget: Duration::from_secs(600),
            ..Limits::default()
        };
        let output = process_layered(
            &file,
            &transformation,
            &LayerFiles::new(),
            FormatChoice::default(),
            limits,
            &budget,
        )
        .expect("process");
        println!(
            "{} bytes, {}x{}",
            output.bytes.len(),
            output.width,
            output.height
        );
        return;
    }
    let dir = args.get(1).expect("usage: bench DIR THREADS SECONDS");
    let threads: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(1);
    let seconds: f64 = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(5.0);
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .expect("read dir")
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.metadata().map(|m| m.len() > 300_000).unwrap_or(false))
        .map(|p| (p.display().to_string(), std::fs::read(&p).expect("read")))
        .collect();
    files.sort();
    let limits = Limits::default();
    let logo = std::fs::read(format!("{dir}/{LOGO}")).expect("the logo");
    let layer_files = LayerFiles::from([("logo.png".to_string(), logo)]);
    let process = |input: &[u8], transformation: &Transformation| {
        let budget = Budget::start(limits.time_budget, Stop::default());
        process_layered(
            input,
            transformation,
            &layer_files,
            FormatChoice::default(),
            limits,
            &budget,
        )
    };
    for (name, suffix, text) in CASES {
        let inputs: Vec<&Vec<u8>> = files
            .iter()
            .filter(|(n, _)| n.ends_with(suffix))
            .map(|(_, b)| b)
            .collect();
        let transformation = Transformation::parse(text, &|_| None).expect("transformation");
        let deadline = Instant::now() + Duration::from_secs_f64(seconds);
        let started = Instant::now();
        let done: usize = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..threads)
                .map(|t| {
                    let (inputs, transformation, process) = (&inputs, &transformation, &process);
                    scope.spawn(move || {
                        let mut count = 0usize;
                        let mut i = t;
                        while Instant::now() < deadline {
                            process(inputs[i % inputs.len()], transformation).expect("process");
                            count += 1;
                            i += threads;
                        }
                        count
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().expect("thread")).sum()
        });
        let rate = done as f64 / started.elapsed().as_secs_f64();
        let pass_bytes: usize = inputs
            .iter()
            .map(|input| {
                process(input, &transformation)
                    .expect("process")
                    .bytes
                    .len()
            })
            .sum();
        println!("{name} {rate:.2} {}", pass_bytes / inputs.len().max(1));
    }
}

/// Writes `DIR/NAME`: `frames` frames of `size`, panning across the set's flower photo, 40 ms
/// each.
fn make_gif(dir: &str, size: (u32, u32), frames: u32, name: &str) {
    use pixelway_transform::image::codecs::gif::{GifEncoder, Repeat};
    use pixelway_transform::image::{Delay, Frame, imageops};
    let photo = std::fs::read(format!("{dir}/freshflower_1600x1203.jpg")).expect("the photo");
    let photo = pixelway_transform::pipeline::decode_rgba(&photo, 100_000_000).expect("decode");
    let file = std::fs::File::create(format!("{dir}/{name}")).expect("create");
    let mut encoder = GifEncoder::new_with_speed(std::io::BufWriter::new(file), 10);
    encoder.set_repeat(Repeat::Infinite).expect("repeat");
    let (window_w, window_h) = (960, 540);
    for i in 0..frames {
        let step = i % 100 * 6;
        let window = imageops::crop_imm(&photo, step, step, window_w, window_h).to_image();
        let frame = imageops::resize(&window, size.0, size.1, imageops::Triangle);
        let delay = Delay::from_numer_denom_ms(40, 1);
        encoder
            .encode_frame(Frame::from_parts(frame, 0, 0, delay))
            .expect("frame");
    }
}
