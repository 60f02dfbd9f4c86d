//! Fuzzes the transformation parser: anything either fails with a ParseError or parses to steps
//! whose canonical text parses back to the same steps.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pixelway_transform::Transformation;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let named = |name: &str| (name == "thumb").then(|| "w-200,h-200,c-at_max".to_string());
    if let Ok(parsed) = Transformation::parse(text, &named) {
        let canonical = parsed.canonical();
        let again = Transformation::parse(&canonical, &|_| None).expect("canonical text parses");
        assert_eq!(again.steps, parsed.steps);
    }
});
