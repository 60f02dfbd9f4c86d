//! The files a transformation's overlay layers read (`l-image,i-logo.png`, `ff-fonts@@brand.ttf`),
//! found through the same endpoint's origin chain and caches as the original itself. A layer
//! file obeys the same rules as the file it is drawn on: a private file needs a signed URL.
//! A layer file no origin has is a 400 naming it, not a 404 of the image.

use super::chain;
use super::original::Original;
use crate::Delivery;
use crate::error::DeliveryError;
use pixelway_control::catalog::{Account, Endpoint};
use pixelway_transform::pipeline::ProcessError;

/// One layer file as found: its Media Library path and the original.
#[derive(Debug, Clone)]
pub struct LayerInput {
    pub path: String,
    pub original: Original,
}

/// Finds every file in `paths` (each once) for `account`'s `endpoint`. `signed`: the URL
/// carries a valid signature, so private files may be used.
pub async fn find_all(
    app: &Delivery,
    account: &Account,
    endpoint: &Endpoint,
    paths: &[String],
    signed: bool,
) -> Result<Vec<LayerInput>, DeliveryError> {
    let mut found = Vec::with_capacity(paths.len());
    for path in paths {
        let checked = pixelway_route::FilePath::from_decoded(path)
            .map_err(|e| refused(path, &e.to_string()))?;
        if !signed && crate::deliver::is_private(app, account, checked.as_str()).await? {
            // Never a way around the layer file's own signature requirement; said as "not
            // found" so a private file's existence is not given away.
            return Err(refused(path, "not found in any origin"));
        }
        // The trace of layer lookups is not the request's: it names the file that was served.
        let mut attempts = Vec::new();
        let original = chain::find(
            app,
            &account.record.id,
            &endpoint.record.identifier,
            &endpoint.chain,
            checked.as_str(),
            &mut attempts,
        )
        .await
        .map_err(|error| match error {
            DeliveryError::NotFound { .. } => refused(path, "not found in any origin"),
            DeliveryError::OriginalTooLarge => refused(
                path,
                "larger than the configured limit (limits.max_origin_bytes)",
            ),
            other => other,
        })?;
        found.push(LayerInput {
            path: path.clone(),
            original,
        });
    }
    Ok(found)
}

fn refused(path: &str, reason: &str) -> DeliveryError {
    DeliveryError::Process(ProcessError::LayerInput {
        path: path.to_string(),
        reason: reason.to_string(),
    })
}
