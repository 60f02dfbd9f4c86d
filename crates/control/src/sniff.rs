//! Content types from the bytes, never from an origin's claim or a file name: an origin (or an
//! uploader) cannot make pixelway serve HTML or script as an image.

/// The media type of a file from its first bytes; `application/octet-stream` when unknown.
pub fn content_type(head: &[u8]) -> String {
    if let Some(kind) = infer::get(head)
        && kind.matcher_type() == infer::MatcherType::Image
    {
        return kind.mime_type().to_string();
    }
    if looks_like_svg(head) {
        return "image/svg+xml".to_string();
    }
    "application/octet-stream".to_string()
}

/// SVG: optional BOM, whitespace, XML declaration, comments or doctype, then `<svg`.
fn looks_like_svg(head: &[u8]) -> bool {
    let text = String::from_utf8_lossy(head);
    let mut rest = text.trim_start_matches('\u{feff}').trim_start();
    loop {
        if rest.starts_with("<svg") {
            return true;
        }
        let skip = if rest.starts_with("<?") {
            rest.find("?>").map(|i| i + 2)
        } else if rest.starts_with("<!--") {
            rest.find("-->").map(|i| i + 3)
        } else if rest.starts_with("<!") {
            rest.find('>').map(|i| i + 1)
        } else {
            None
        };
        match skip {
            Some(i) => rest = rest[i..].trim_start(),
            None => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_types_from_bytes() {
        assert_eq!(
            content_type(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, b'J', b'F', b'I', b'F']),
            "image/jpeg"
        );
        assert_eq!(content_type(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"), "image/png");
        assert_eq!(content_type(b"GIF89a...."), "image/gif");
        assert_eq!(content_type(b"RIFF\0\0\0\0WEBPVP8 "), "image/webp");
        assert_eq!(
            content_type(b"<?xml version=\"1.0\"?>\n<!-- c -->\n<svg xmlns=..."),
            "image/svg+xml"
        );
        assert_eq!(
            content_type(b"<html><script>alert(1)</script>"),
            "application/octet-stream"
        );
        assert_eq!(content_type(b""), "application/octet-stream");
    }
}
