//! The JSON shapes the SDKs parse (ImageKit's field names), and the small helpers that read
//! request bodies and queries into typed values with errors that name the bad part.

use super::error::ApiError;
use pixelway_store::{FileRecord, FolderRecord};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use utoipa::ToSchema;

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

/// An update's body laid over the stored entity (`current`, in the request's shape): a field
/// the body leaves out keeps its stored value, a field it gives replaces it. This is the one
/// rule for every update route, so an SDK that sends only what it changes (or that cannot send
/// a field at all) never resets the rest. A field in `not_null` may not be sent as `null`: for
/// a switch such as `signedUrlsOnly`, "unset" must never quietly mean "off".
pub fn merge_onto(current: Value, body: &[u8], not_null: &[&str]) -> Result<Value, ApiError> {
    let given: Value = parse_body(body)?;
    let Value::Object(given) = given else {
        return Err(ApiError::bad("request body: expected a JSON object"));
    };
    let mut merged = match current {
        Value::Object(current) => current,
        _ => serde_json::Map::new(),
    };
    for (field, value) in given {
        if value.is_null() && not_null.contains(&field.as_str()) {
            return Err(ApiError::bad(format!(
                "{field} may not be null: leave it out to keep its value"
            )));
        }
        merged.insert(field, value);
    }
    Ok(Value::Object(merged))
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

/// A file path with each segment percent-encoded (slashes kept).
pub fn encode_path(path: &str) -> String {
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

/// A file as the SDKs parse it (ImageKit's `File` and upload response models).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FileObject {
    pub file_id: String,
    pub name: String,
    /// `/folder/name.jpg`.
    pub file_path: String,
    /// The delivery URL.
    pub url: String,
    /// `file` in listings and details (absent in upload answers).
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// A 200×200 transformation of an image (listings and details).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thumbnail: Option<String>,
    /// The same, in upload answers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thumbnail_url: Option<String>,
    /// `image` or `non-image`.
    pub file_type: String,
    pub mime: String,
    pub height: Option<i64>,
    pub width: Option<i64>,
    pub size: i64,
    /// pixelway's addition: lets `pixelway import` skip what is there already.
    pub sha256: String,
    pub has_alpha: bool,
    pub tags: Option<Vec<String>>,
    /// pixelway makes no AI tags: always `null`.
    #[serde(rename = "AITags")]
    pub ai_tags: Option<Vec<String>>,
    pub is_private_file: bool,
    pub is_published: bool,
    pub custom_coordinates: Option<String>,
    #[schema(value_type = Object)]
    pub custom_metadata: serde_json::Map<String, Value>,
    pub description: String,
    pub version_info: VersionInfo,
    pub created_at: String,
    pub updated_at: String,
}

/// Which version of a file an object describes.
#[derive(Debug, Serialize, ToSchema)]
pub struct VersionInfo {
    pub id: String,
    pub name: String,
}

/// A folder in a listing.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FolderObject {
    /// Always `folder`.
    #[serde(rename = "type")]
    pub kind: String,
    pub folder_id: String,
    pub name: String,
    /// `/a/b` (no trailing slash).
    pub folder_path: String,
    pub created_at: String,
    pub updated_at: String,
}

/// One item of a listing: a file or a folder.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum ListItem {
    File(Box<FileObject>),
    Folder(FolderObject),
}

/// Every error answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// What was wrong, naming the field or part.
    pub message: String,
    pub help: String,
}

/// An empty JSON object (`{}`), where ImageKit answers one.
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct EmptyObject {}

/// `{"config": "<key>"}`: the entity is managed by the config file, under that key.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ManagedBy {
    pub config: String,
}

impl ManagedBy {
    pub fn of(key: Option<&str>) -> Option<Self> {
        key.map(|key| Self {
            config: key.to_string(),
        })
    }
}

/// A file as list and details answers carry it (`thumbnail`, `type`).
pub fn file(record: &FileRecord, base: &str) -> FileObject {
    FileObject {
        kind: Some("file".into()),
        thumbnail: Some(thumbnail_url(record, base)),
        ..common(record, base)
    }
}

/// A file as the upload answer carries it (`thumbnailUrl`).
pub fn uploaded(record: &FileRecord, base: &str) -> FileObject {
    FileObject {
        thumbnail_url: Some(thumbnail_url(record, base)),
        ..common(record, base)
    }
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

fn common(record: &FileRecord, base: &str) -> FileObject {
    FileObject {
        file_id: record.id.clone(),
        name: record.name.clone(),
        file_path: format!("/{}", record.path),
        url: file_url(base, &record.account_id, &record.path),
        kind: None,
        thumbnail: None,
        thumbnail_url: None,
        file_type: record.file_type.clone(),
        mime: record.mime.clone(),
        height: record.height,
        width: record.width,
        size: record.size,
        sha256: record.sha256.clone(),
        has_alpha: record.has_alpha,
        tags: (!record.tags.is_empty()).then(|| record.tags.clone()),
        ai_tags: None,
        is_private_file: record.is_private,
        is_published: true,
        custom_coordinates: record.custom_coordinates.clone(),
        custom_metadata: record.custom_metadata.clone(),
        description: record.description.clone(),
        version_info: VersionInfo {
            id: record.id.clone(),
            name: format!("Version {}", record.version),
        },
        created_at: iso_time(record.created_at),
        updated_at: iso_time(record.updated_at),
    }
}

/// A folder in a listing.
pub fn folder(record: &FolderRecord) -> FolderObject {
    FolderObject {
        kind: "folder".into(),
        folder_id: format!("folder{}", record.path),
        name: record.name.clone(),
        folder_path: record.path.trim_end_matches('/').to_string(),
        created_at: iso_time(record.created_at),
        updated_at: iso_time(record.updated_at),
    }
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
