//! The JSON shapes the SDKs parse (ImageKit's field names), and the small helpers that read
//! request bodies and queries into typed values with errors that name the bad part.

use super::error::ApiError;
use pixelway_store::{FileRecord, FolderRecord};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

/// A request body as `T`; an error names what is wrong (a missing field, an unknown one, bad
/// JSON).
pub fn parse_body<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let body = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}".as_slice()
    } else {
        body
    };
    serde_json::from_slice(body).map_err(|e| ApiError::bad(format!("request body: {e}")))
}

/// ISO 8601 UTC with milliseconds, as ImageKit writes times.
pub fn iso_time(unix: i64) -> String {
    let days = unix.div_euclid(86_400);
    let seconds = unix.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.000Z",
        seconds / 3600,
        seconds % 3600 / 60,
        seconds % 60
    )
}

/// The date of a day count since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// The delivery URL of a library file: `{base}/{account}/{path}`, each segment
/// percent-encoded.
pub fn file_url(base: &str, account: &str, path: &str) -> String {
    format!("{base}/{account}/{}", encode_path(path))
}

fn encode_path(path: &str) -> String {
    const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'~');
    path.split('/')
        .map(|s| percent_encoding::utf8_percent_encode(s, SEGMENT).to_string())
        .collect::<Vec<_>>()
        .join("/")
}

/// A file as list and details answers carry it (`thumbnail`, `type`).
pub fn file(record: &FileRecord, base: &str) -> Value {
    let mut value = common(record, base);
    value["type"] = json!("file");
    value["thumbnail"] = json!(thumbnail_url(record, base));
    value
}

/// A file as the upload answer carries it (`thumbnailUrl`).
pub fn uploaded(record: &FileRecord, base: &str) -> Value {
    let mut value = common(record, base);
    value["thumbnailUrl"] = json!(thumbnail_url(record, base));
    value
}

fn thumbnail_url(record: &FileRecord, base: &str) -> String {
    if record.file_type == "image" {
        format!(
            "{base}/{}/tr:w-200,h-200,c-at_max/{}",
            record.account_id,
            encode_path(&record.path)
        )
    } else {
        String::new()
    }
}

fn common(record: &FileRecord, base: &str) -> Value {
    json!({
        "fileId": record.id,
        "name": record.name,
        "filePath": format!("/{}", record.path),
        "url": file_url(base, &record.account_id, &record.path),
        "fileType": record.file_type,
        "mime": record.mime,
        "height": record.height,
        "width": record.width,
        "size": record.size,
        // pixelway's addition: lets `pixelway import` skip what is there already.
        "sha256": record.sha256,
        "hasAlpha": record.has_alpha,
        "tags": if record.tags.is_empty() { Value::Null } else { json!(record.tags) },
        "AITags": Value::Null,
        "isPrivateFile": record.is_private,
        "isPublished": true,
        "customCoordinates": record.custom_coordinates,
        "customMetadata": record.custom_metadata,
        "description": record.description,
        "versionInfo": { "id": record.id, "name": format!("Version {}", record.version) },
        "createdAt": iso_time(record.created_at),
        "updatedAt": iso_time(record.updated_at),
    })
}

/// A folder in a listing.
pub fn folder(record: &FolderRecord) -> Value {
    json!({
        "type": "folder",
        "folderId": format!("folder{}", record.path),
        "name": record.name,
        "folderPath": record.path.trim_end_matches('/'),
        "createdAt": iso_time(record.created_at),
        "updatedAt": iso_time(record.updated_at),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_iso_8601_utc() {
        assert_eq!(iso_time(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso_time(1_577_880_732), "2020-01-01T12:12:12.000Z");
        assert_eq!(iso_time(951_782_400), "2000-02-29T00:00:00.000Z");
        for days in [-1000, 0, 59, 60, 365, 11_016, 20_000] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(pixelway_store::search::days_from_civil(y, m, d), days);
        }
    }

    #[test]
    fn urls_encode_each_segment() {
        assert_eq!(
            file_url("http://h", "demo", "a b/ü?.jpg"),
            "http://h/demo/a%20b/%C3%BC%3F.jpg"
        );
    }
}
