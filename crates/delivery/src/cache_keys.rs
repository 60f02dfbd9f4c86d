//! Every cache key pixelway builds, in one place: a key is built the same way wherever it is
//! written, read or purged, so the places cannot drift apart.
//!
//! - An original fetched from an origin is keyed by the origin's id and the decoded path: the
//!   same file asked through two endpoints that share an origin is fetched once, and an origin
//!   never sees a key of another origin (ids are unique across accounts).
//! - A result is keyed by the endpoint and path it was asked for, the original's ETag (a changed
//!   original never gets a stale result), the canonical transformation text, and the format
//!   facts that can change the output.
//! - An answer in the memory tier is keyed by what the request asked, as routed: the endpoint,
//!   the path, the transformation text as written (so a hit needs no parsing), the two facts
//!   of `Accept`, the client hints when the transformation can use them, and whether the request
//!   carried a valid signature: an answer made for a signed request (which may draw private
//!   layers, fonts or default images) is never the answer to an unsigned one. It is invalidated
//!   by its file's scope (account and path: a write or a purge) and by its account's generation
//!   (any change to the account).

use pixelway_transform::pipeline::FormatChoice;
use pixelway_transform::{ClientHints, Transformation};

/// The key of the cached original of `path` from the origin with id `origin_id`.
pub fn original(origin_id: &str, path: &str) -> String {
    format!("{origin_id}\n{path}")
}

/// What a request is, for its memory-tier key (see [`answer`]).
#[derive(Debug, Clone, Copy)]
pub struct AnswerRequest<'a> {
    pub endpoint_id: &'a str,
    pub path: &'a str,
    pub path_transformation: Option<&'a str>,
    pub query_transformation: Option<&'a str>,
    /// `Accept` takes WebP, AVIF.
    pub accepts: (bool, bool),
    pub hints: ClientHints,
    /// The request carries a valid signature (private files may be drawn into its answer).
    pub signed: bool,
}

/// The key of an answer in the memory tier. Parts are length-prefixed: no two requests
/// share a key whatever their paths contain.
pub fn answer(request: AnswerRequest<'_>) -> String {
    let AnswerRequest {
        endpoint_id,
        path,
        path_transformation,
        query_transformation,
        accepts,
        hints,
        signed,
    } = request;
    use std::fmt::Write;
    let mut key = String::with_capacity(endpoint_id.len() + path.len() + 48);
    for part in [
        Some(endpoint_id),
        Some(path),
        path_transformation,
        query_transformation,
    ] {
        match part {
            Some(text) => {
                let _ = write!(key, "{}:{text}", text.len());
            }
            None => key.push('-'),
        }
    }
    key.push(if accepts.0 { 'W' } else { 'w' });
    key.push(if accepts.1 { 'A' } else { 'a' });
    key.push(if signed { 'S' } else { 's' });
    let uses_hints = [path_transformation, query_transformation]
        .into_iter()
        .flatten()
        .any(may_use_client_hints);
    if uses_hints {
        if let Some(width) = hints.width {
            let _ = write!(key, "cw{width}");
        }
        if let Some(dpr) = hints.dpr {
            let _ = write!(key, "cd{dpr}");
        }
    }
    key
}

/// Whether a transformation as written may read the client hints: `w-auto`, `dpr-auto`, or a
/// named transformation (whose text could hold either). Others give the same answer whatever
/// the hints say, so they are left out of the key (one entry, not one per hint value).
fn may_use_client_hints(text: &str) -> bool {
    text.contains("w-auto")
        || text.contains("dpr-auto")
        || text
            .split([',', ':'])
            .any(|parameter| parameter.starts_with("n-"))
}

/// What invalidates every answer of one file in the memory tier.
pub fn file_scope<'a>(account: &'a str, path: &'a str) -> (&'a str, &'a str) {
    (account, path)
}

/// What invalidates every answer of the files in one folder of an account, and below it, in
/// the memory tier (a wildcard purge): `folder` is `""` (the account's root) or ends in `/`.
pub fn folder_scope<'a>(account: &'a str, folder: &'a str) -> (&'static str, &'a str, &'a str) {
    ("folder", account, folder)
}

/// The folders `path` lies in, from the root down (`a/b/c.jpg`: `""`, `a/`, `a/b/`): an answer
/// of `path` holds a stamp of each, so a wildcard purge of any of them reaches it.
pub fn folders_of(path: &str) -> impl Iterator<Item = &str> {
    std::iter::once("").chain(path.match_indices('/').map(|(at, _)| &path[..=at]))
}

/// The key of a transformed result.
pub fn result(
    endpoint_id: &str,
    path: &str,
    original_etag: &str,
    transformation: &Transformation,
    choice: FormatChoice,
    layer_etags: &[(&str, &str)],
) -> String {
    let FormatChoice {
        accepts_webp,
        accepts_avif,
        best_format,
        auto_avif,
    } = choice;
    let flag = |on: bool| if on { '1' } else { '0' };
    let mut key = format!(
        "result\n{endpoint_id}\n{path}\n{original_etag}\n{}\n{}{}{}{}",
        transformation.canonical(),
        flag(accepts_webp),
        flag(accepts_avif),
        flag(best_format),
        flag(auto_avif),
    );
    // Every layer file's ETag: a changed logo makes a new result, never the old one.
    for (layer_path, etag) in layer_etags {
        key.push_str(&format!(
            "\nlayer {}:{layer_path}\n{etag}",
            layer_path.len()
        ));
    }
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_differ_by_every_part_of_their_key() {
        let t = |text: &str| Transformation::parse(text, &|_| None).unwrap();
        let choice = FormatChoice::default();
        let base = result("e1", "a.jpg", "\"x\"", &t("w-100"), choice, &[]);
        let webp = FormatChoice {
            accepts_webp: true,
            ..choice
        };
        for other in [
            result("e2", "a.jpg", "\"x\"", &t("w-100"), choice, &[]),
            result("e1", "b.jpg", "\"x\"", &t("w-100"), choice, &[]),
            result("e1", "a.jpg", "\"y\"", &t("w-100"), choice, &[]),
            result("e1", "a.jpg", "\"x\"", &t("w-101"), choice, &[]),
            result("e1", "a.jpg", "\"x\"", &t("w-100"), webp, &[]),
            result(
                "e1",
                "a.jpg",
                "\"x\"",
                &t("w-100"),
                choice,
                &[("l.png", "\"1\"")],
            ),
        ] {
            assert_ne!(base, other);
        }
        let logo = t("l-image,i-l.png,l-end");
        let with_logo = |etag| result("e1", "a.jpg", "\"x\"", &logo, choice, &[("l.png", etag)]);
        assert_ne!(
            with_logo("\"1\""),
            with_logo("\"2\""),
            "a changed layer file"
        );
        assert_eq!(
            base,
            result("e1", "a.jpg", "\"x\"", &t("w-100"), choice, &[])
        );
        assert_ne!(original("o1", "a.jpg"), original("o2", "a.jpg"));
    }

    /// A request for `a.jpg` on `e1` with `w-auto` in the path, Accept WebP, no hints, unsigned.
    fn request(path_transformation: Option<&str>) -> AnswerRequest<'_> {
        AnswerRequest {
            endpoint_id: "e1",
            path: "a.jpg",
            path_transformation,
            query_transformation: None,
            accepts: (true, false),
            hints: ClientHints::default(),
            signed: false,
        }
    }

    #[test]
    fn answers_differ_by_every_part_of_their_key() {
        let base = request(Some("w-auto"));
        let hinted = |width, dpr| AnswerRequest {
            hints: ClientHints { width, dpr },
            ..base
        };
        for other in [
            AnswerRequest {
                endpoint_id: "e2",
                ..base
            },
            AnswerRequest {
                path: "b.jpg",
                ..base
            },
            AnswerRequest {
                path_transformation: None,
                query_transformation: Some("w-auto"),
                ..base
            },
            request(Some("w-2")),
            AnswerRequest {
                accepts: (false, false),
                ..base
            },
            AnswerRequest {
                accepts: (true, true),
                ..base
            },
            AnswerRequest {
                signed: true,
                ..base
            },
            hinted(Some(9), None),
            hinted(None, Some(2.0)),
            // A path that contains what would be the next part is still another key.
            AnswerRequest {
                path: "a.jpg6:w-auto",
                path_transformation: None,
                ..base
            },
        ] {
            assert_ne!(answer(base), answer(other), "{other:?}");
        }
    }

    #[test]
    fn a_file_lies_in_each_folder_above_it_and_a_prefix_in_its_own() {
        let folders: Vec<&str> = folders_of("a/b/c.jpg").collect();
        assert_eq!(folders, ["", "a/", "a/b/"]);
        assert_eq!(folders_of("c.jpg").collect::<Vec<_>>(), [""]);
    }

    #[test]
    fn client_hints_are_in_the_key_only_where_they_can_change_the_answer() {
        let hinted = |text| AnswerRequest {
            hints: ClientHints {
                width: Some(640),
                dpr: Some(2.0),
            },
            ..request(text)
        };
        for text in [None, Some("w-300"), Some("f-auto,q-80")] {
            assert_eq!(answer(request(text)), answer(hinted(text)), "{text:?}");
        }
        for text in ["w-auto", "dpr-auto,w-300", "n-thumb", "w-10:n-thumb"] {
            assert_ne!(
                answer(request(Some(text))),
                answer(hinted(Some(text))),
                "{text}"
            );
        }
    }
}
