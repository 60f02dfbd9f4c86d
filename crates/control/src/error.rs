//! [`ControlError`]: why a change was refused or failed, typed by what the caller can do about
//! it. Each surface maps it to its own answer in one place (the management API's
//! `ApiError::from`, the dashboard's error page).

use crate::catalog::CatalogError;
use crate::media_library::MediaError;
use pixelway_store::{Invalid, StoreError};

/// Why a change through [`crate::Control`] did not happen.
#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    /// A field is missing, malformed or not allowed; the message names it.
    #[error("{0}")]
    Invalid(String),
    /// What the change names does not exist (or belongs to another account).
    #[error("{0}")]
    NotFound(String),
    /// The caller may not change what it names (a URL of another account).
    #[error("{0}")]
    Forbidden(String),
    /// The change clashes with what exists: a name taken, an entity in use, an entity the
    /// config file manages.
    #[error("{0}")]
    Conflict(String),
    /// A file that is not an image, video, audio, font or PDF.
    #[error("{0}")]
    Unsupported(String),
    /// The store is out of reach: nothing was changed; the caller may retry.
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    /// A failure of pixelway's own storage or a bug; the detail is for the log only.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ControlError {
    /// A refusal that names the field it came from.
    pub fn invalid(field: &str, message: impl std::fmt::Display) -> Self {
        Self::Invalid(format!("{field}: {message}"))
    }

    /// The same error with `field: ` put before a refusal's or a clash's message.
    pub fn in_field(self, field: &str) -> Self {
        match self {
            Self::Invalid(message) => Self::Invalid(format!("{field}: {message}")),
            Self::Conflict(message) => Self::Conflict(format!("{field}: {message}")),
            other => other,
        }
    }
}

impl From<StoreError> for ControlError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound { .. } => Self::NotFound(error.to_string()),
            StoreError::Invalid(_) | StoreError::Search(_) => Self::Invalid(error.to_string()),
            StoreError::Exists { .. } | StoreError::InUse { .. } | StoreError::Managed { .. } => {
                Self::Conflict(error.to_string())
            }
            ref unavailable if unavailable.is_unavailable() => Self::Unavailable(error.to_string()),
            other => Self::Internal(other.to_string()),
        }
    }
}

impl From<Invalid> for ControlError {
    fn from(invalid: Invalid) -> Self {
        Self::Invalid(invalid.to_string())
    }
}

impl From<MediaError> for ControlError {
    fn from(error: MediaError) -> Self {
        Self::Internal(error.to_string())
    }
}

impl From<CatalogError> for ControlError {
    fn from(error: CatalogError) -> Self {
        Self::Internal(error.to_string())
    }
}
