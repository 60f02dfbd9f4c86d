//! [`LazyOrigin`]: an origin built on its first use. A server with a hundred thousand tenants
//! starts without building a hundred thousand clients (object-store clients especially: each
//! holds its own configuration and connection pool); an origin no request reaches is never
//! built. The spec was checked when it was accepted ([`OriginSpec::check`]), so building later
//! fails only for reasons the client library finds itself, and that failure is the fetch's.

use crate::spec::{BuildContext, OriginSpec};
use crate::{Failure, Fetch, Origin, Reach};
use std::sync::{Arc, OnceLock};

/// An origin that builds its client when first asked for a file.
pub struct LazyOrigin {
    spec: OriginSpec,
    context: BuildContext,
    built: OnceLock<Result<Arc<dyn Origin>, String>>,
}

impl std::fmt::Debug for LazyOrigin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LazyOrigin")
            .field("kind", &self.spec.kind())
            .field("built", &self.built.get().is_some())
            .finish()
    }
}

impl LazyOrigin {
    pub fn new(spec: OriginSpec, context: BuildContext) -> Self {
        Self {
            spec,
            context,
            built: OnceLock::new(),
        }
    }

    fn origin(&self) -> Result<&Arc<dyn Origin>, Failure> {
        self.built
            .get_or_init(|| self.spec.build(&self.context).map_err(|e| e.to_string()))
            .as_ref()
            .map_err(|e| Failure::other(format!("origin cannot be built: {e}")))
    }
}

#[async_trait::async_trait]
impl Origin for LazyOrigin {
    async fn fetch(&self, path: &str) -> Fetch {
        match self.origin() {
            Ok(origin) => origin.fetch(path).await,
            Err(failure) => Fetch::Failed(failure),
        }
    }

    async fn probe(&self) -> Reach {
        match self.origin() {
            Ok(origin) => origin.probe().await,
            Err(failure) => Reach::Failed(failure),
        }
    }
}
