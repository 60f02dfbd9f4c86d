//! Pipeline throughput on a folder of images: `bench DIR THREADS SECONDS_PER_CASE`.
//! Prints one line per case: `case images/s mean-output-bytes`, the mean taken over one pass of
//! every input (the same set sharp's script measures, whatever mix the timed runs completed). Run by `bench/transform.sh`, which runs sharp on
//! the same inputs in the same run and prints the ratios.

use pixelway_transform::Transformation;
use pixelway_transform::pipeline::{FormatChoice, Limits, process};
use std::time::{Duration, Instant};

/// (case name, input file suffix filter, transformation)
const CASES: &[(&str, &str, &str)] = &[
    ("jpeg->jpeg800", ".jpg", "w-800,q-80,f-jpg"),
    ("jpeg->webp800", ".jpg", "w-800,q-80,f-webp"),
    ("png->png800", ".png", "w-800,f-png"),
    ("png->webp800", ".png", "w-800,q-80,f-webp"),
    ("jpeg->avif800", ".jpg", "w-800,q-60,f-avif"),
];

fn main() {
    let args: Vec<String> = std::env::args().collect();
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
                    let (inputs, transformation) = (&inputs, &transformation);
                    scope.spawn(move || {
                        let mut count = 0usize;
                        let mut i = t;
                        while Instant::now() < deadline {
                            process(
                                inputs[i % inputs.len()],
                                transformation,
                                FormatChoice::default(),
                                limits,
                            )
                            .expect("process");
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
                process(input, &transformation, FormatChoice::default(), limits)
                    .expect("process")
                    .bytes
                    .len()
            })
            .sum();
        println!("{name} {rate:.2} {}", pass_bytes / inputs.len().max(1));
    }
}
