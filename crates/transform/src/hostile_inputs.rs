//! Generators of hostile inputs, for tests only (feature `hostile-inputs`, and this crate's own
//! tests): each is a small file that asks a naive decoder for far more time or memory than its
//! size suggests. The limits that refuse them are in the pipeline; the files are made here so
//! that the unit tests and the end-to-end corpus use the same bytes.

use image::{Rgb, RgbImage};

/// A flat-coloured progressive JPEG of `width`x`height` whose smallest scan (an AC scan of a
/// few bytes: one run of empty blocks) is repeated until the file has `scans` scans. Each
/// repeat makes a progressive decoder pass over every block of that component again;
/// libjpeg-turbo only warns about the bogus progression. 20,000 scans fit in a few hundred KB.
pub fn jpeg_with_scans(width: u32, height: u32, scans: usize) -> Vec<u8> {
    let pixels = RgbImage::from_pixel(width, height, Rgb([90, 140, 200]));
    let mut compressor = turbojpeg::Compressor::new().expect("compressor");
    compressor.set_quality(80).expect("quality");
    compressor.set_progressive(true).expect("progressive");
    let image = turbojpeg::Image {
        pixels: pixels.as_raw().as_slice(),
        width: width as usize,
        pitch: width as usize * 3,
        height: height as usize,
        format: turbojpeg::PixelFormat::RGB,
    };
    let jpeg = compressor.compress_to_vec(image).expect("compress");
    let smallest = scan_ranges(&jpeg)
        .into_iter()
        .min_by_key(|range| range.len())
        .expect("a progressive JPEG has scans");
    let mut out = jpeg[..smallest.end].to_vec();
    for _ in 1..scans {
        out.extend_from_slice(&jpeg[smallest.clone()]);
    }
    out.extend_from_slice(&jpeg[smallest.end..]);
    out
}

/// The byte ranges of every SOS segment with its entropy-coded data.
fn scan_ranges(jpeg: &[u8]) -> Vec<std::ops::Range<usize>> {
    let segment_end =
        |at: usize| at + 2 + u16::from_be_bytes([jpeg[at + 2], jpeg[at + 3]]) as usize;
    let mut ranges = Vec::new();
    let mut at = 2;
    while at + 4 <= jpeg.len() && jpeg[at + 1] != 0xD9 {
        if jpeg[at + 1] != 0xDA {
            at = segment_end(at);
            continue;
        }
        // Entropy-coded data runs to the next marker that is not a stuffed 0xFF00 or a restart.
        let mut end = segment_end(at);
        while !(jpeg[end] == 0xFF && jpeg[end + 1] != 0 && !(0xD0..=0xD7).contains(&jpeg[end + 1]))
        {
            end += 1;
        }
        ranges.push(at..end);
        at = end;
    }
    ranges
}

/// A `side`x`side` PNG carrying an `iCCP` chunk whose profile inflates to `inflated` bytes
/// (zeros: about 1/160 of that on disk).
pub fn png_with_inflating_iccp(side: u32, inflated: u64) -> Vec<u8> {
    let mut png = Vec::new();
    RgbImage::from_pixel(side, side, Rgb([200, 30, 30]))
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .expect("encode png");
    let mut chunk = b"bomb\0\0".to_vec(); // profile name, NUL, compression method 0
    chunk.extend_from_slice(&zlib_zeros(inflated));
    let ihdr_end = 8 + 8 + 13 + 4;
    let mut out = png[..ihdr_end].to_vec();
    out.extend_from_slice(&png_chunk(b"iCCP", &chunk));
    out.extend_from_slice(&png[ihdr_end..]);
    out
}

fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut out = (data.len() as u32).to_be_bytes().to_vec();
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    out.extend_from_slice(&crc32(&out[4..]).to_be_bytes());
    out
}

/// CRC-32 (ISO-HDLC), as PNG chunks use (over the chunk type and data).
pub fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in data {
        crc ^= byte as u32;
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A zlib stream of `count` zero bytes, written directly as one fixed-Huffman deflate block: a
/// literal zero, then matches of 258 bytes at distance 1 (13 bits each).
fn zlib_zeros(count: u64) -> Vec<u8> {
    let mut bits = BitWriter::default();
    bits.put(1, 1); // final block
    bits.put(0b01, 2); // fixed Huffman
    bits.put_reversed(0b0011_0000, 8); // literal 0
    let mut left = count.saturating_sub(1);
    while left > 0 {
        let length = left.min(258);
        if length < 3 {
            for _ in 0..length {
                bits.put_reversed(0b0011_0000, 8);
            }
        } else {
            put_length(&mut bits, length as u16);
            bits.put_reversed(0, 5); // distance code 0: distance 1
        }
        left -= length;
    }
    bits.put_reversed(0, 7); // end of block (code 256)
    let mut out = vec![0x78, 0x01];
    out.extend_from_slice(&bits.finish());
    // Adler-32 of `count` zeros: a stays 1, b adds 1 per byte.
    let b = (count % 65521) as u32;
    out.extend_from_slice(&((b << 16) | 1).to_be_bytes());
    out
}

/// Writes a deflate length (3..=258) with the fixed Huffman table.
fn put_length(bits: &mut BitWriter, length: u16) {
    const BASES: [(u16, u8); 29] = [
        (3, 0),
        (4, 0),
        (5, 0),
        (6, 0),
        (7, 0),
        (8, 0),
        (9, 0),
        (10, 0),
        (11, 1),
        (13, 1),
        (15, 1),
        (17, 1),
        (19, 2),
        (23, 2),
        (27, 2),
        (31, 2),
        (35, 3),
        (43, 3),
        (51, 3),
        (59, 3),
        (67, 4),
        (83, 4),
        (99, 4),
        (115, 4),
        (131, 5),
        (163, 5),
        (195, 5),
        (227, 5),
        (258, 0),
    ];
    let index = BASES
        .iter()
        .rposition(|(base, _)| *base <= length)
        .expect("length ≥ 3");
    let (base, extra) = BASES[index];
    let symbol = 257 + index as u32;
    if symbol < 280 {
        bits.put_reversed(symbol - 256, 7);
    } else {
        bits.put_reversed(0b1100_0000 + (symbol - 280), 8);
    }
    bits.put((length - base) as u32, extra as u32);
}

/// Deflate's bit order: values least significant bit first, Huffman codes most significant
/// bit first.
#[derive(Default)]
struct BitWriter {
    out: Vec<u8>,
    buffer: u64,
    filled: u32,
}

impl BitWriter {
    fn put(&mut self, value: u32, count: u32) {
        self.buffer |= (value as u64) << self.filled;
        self.filled += count;
        while self.filled >= 8 {
            self.out.push(self.buffer as u8);
            self.buffer >>= 8;
            self.filled -= 8;
        }
    }

    fn put_reversed(&mut self, code: u32, count: u32) {
        let reversed = code.reverse_bits() >> (32 - count);
        self.put(reversed, count);
    }

    fn finish(mut self) -> Vec<u8> {
        if self.filled > 0 {
            self.out.push(self.buffer as u8);
        }
        self.out
    }
}

/// A GIF with a 1x1 logical screen whose one frame declares `width`x`height`.
pub fn gif_frame_declaring(width: u16, height: u16) -> Vec<u8> {
    let mut bytes = b"GIF89a".to_vec();
    bytes.extend_from_slice(&[1, 0, 1, 0, 0x80, 0, 0]); // 1x1, a 2-colour table
    bytes.extend_from_slice(&[0, 0, 0, 255, 255, 255]);
    bytes.extend_from_slice(&[0x2C, 0, 0, 0, 0]);
    bytes.extend_from_slice(&width.to_le_bytes());
    bytes.extend_from_slice(&height.to_le_bytes());
    bytes.extend_from_slice(&[0, 2, 2, 0x4C, 0x01, 0, 0x3B]);
    bytes
}

/// An SVG of `width`x`height` user units with nothing in it.
pub fn svg_of_size(width: &str, height: &str) -> String {
    format!(r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}"/>"#)
}

/// A small SVG whose filter dilates turbulence noise with a large radius: minutes of work for
/// a naive renderer.
pub fn svg_morphology_over_turbulence(side: u32, radius: u32) -> String {
    format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{side}" height="{side}"><filter id="f" x="0" y="0" width="1" height="1"><feTurbulence baseFrequency="0.05" numOctaves="8"/><feMorphology operator="dilate" radius="{radius}"/></filter><rect width="100%" height="100%" filter="url(#f)"/></svg>"#
    )
}
