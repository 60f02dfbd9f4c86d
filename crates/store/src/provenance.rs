//! Which entities the config file manages. Each start-up that applies the file is a generation:
//! every entity the file declares is marked with the file's key for it and that generation;
//! afterwards, managed entities of an older generation are ones the file no longer declares, and
//! they are removed. Entities made through the API are never marked, so the file never touches
//! them — unless it declares one by the same name, which it then takes over.

use crate::{Store, StoreError};
use sqlx::AnyConnection;

/// One application of the config file.
#[derive(Debug, Clone)]
pub struct Declared {
    generation: String,
}

impl Default for Declared {
    fn default() -> Self {
        Self {
            generation: crate::new_id(),
        }
    }
}

/// Marks custom domain `host` as declared by the config file under `key` in this generation.
/// (Accounts and what is in them are marked by the writes themselves: `bulk.rs`.)
async fn declare_domain(
    tx: &mut AnyConnection,
    declared: &Declared,
    host: &str,
    key: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE custom_domains SET managed_by = $1, config_generation = $2 WHERE host = $3",
    )
    .bind(key)
    .bind(&declared.generation)
    .bind(host)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Removes what the config file managed before but no longer declares; returns the keys
/// removed (an account goes with everything in it).
async fn remove_undeclared(
    tx: &mut AnyConnection,
    declared: &Declared,
) -> Result<Vec<String>, StoreError> {
    let mut removed = Vec::new();
    {
        // Children first, so each is reported under its own key.
        for table in [
            "custom_domains",
            "named_transformations",
            "endpoints",
            "origins",
            "accounts",
        ] {
            let sql = format!(
                "DELETE FROM {table} WHERE managed_by IS NOT NULL AND config_generation <> $1 \
                 RETURNING managed_by"
            );
            let rows = sqlx::query(crate::audited(sql))
                .bind(&declared.generation)
                .fetch_all(&mut *tx)
                .await?;
            for row in rows {
                use sqlx::Row;
                removed.push(row.try_get::<String, _>("managed_by")?);
            }
        }
        Ok(removed)
    }
}

/// Applying a config file: every write in one transaction (a start with a hundred thousand
/// entities commits once, not once per entity), each entity marked with the file's key for it,
/// then what the file declared before but no longer does removed — all or nothing.
pub struct ConfigApply<'s> {
    store: &'s Store,
    tx: sqlx::Transaction<'static, sqlx::Any>,
    declared: Declared,
    taken_over: Vec<String>,
}

/// What applying a config file changed beyond writing what it declares.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Applied {
    /// The keys of entities the file declared before and no longer does: removed.
    pub removed: Vec<String>,
    /// Entities the API made that the file now declares, one sentence each: the file manages
    /// them from now on.
    pub taken_over: Vec<String>,
}

impl Store {
    /// The fingerprint of the config file's entities applied last (`None`: never applied).
    pub async fn applied_fingerprint(&self) -> Result<Option<String>, StoreError> {
        let row = sqlx::query("SELECT fingerprint FROM config_state WHERE id = 1")
            .fetch_optional(self.pool())
            .await?;
        Ok(row
            .map(|row| sqlx::Row::try_get(&row, "fingerprint"))
            .transpose()?)
    }

    /// Starts applying a config file.
    pub async fn begin_config_apply(&self) -> Result<ConfigApply<'_>, StoreError> {
        let mut tx = self.write_transaction().await?;
        for statement in self.backend().around_apply().0 {
            sqlx::query(*statement).execute(&mut *tx).await?;
        }
        Ok(ConfigApply {
            store: self,
            tx,
            declared: Declared::default(),
            taken_over: Vec::new(),
        })
    }
}

impl<'s> ConfigApply<'s> {
    /// This application's generation mark.
    pub(crate) fn generation(&self) -> &str {
        &self.declared.generation
    }

    pub(crate) fn store(&self) -> &'s Store {
        self.store
    }

    pub(crate) fn note_taken_over(&mut self, taken: Vec<String>) {
        self.taken_over.extend(taken);
    }

    /// The transaction every write of this application goes into.
    pub(crate) fn connection(&mut self) -> &mut AnyConnection {
        &mut self.tx
    }

    /// A custom domain, declared under `key`.
    pub async fn domain(
        &mut self,
        host: &str,
        account: &str,
        endpoint_identifier: Option<&str>,
        key: &str,
    ) -> Result<(), StoreError> {
        self.store
            .upsert_domain_in(&mut self.tx, host, account, endpoint_identifier)
            .await?;
        let host = host.to_ascii_lowercase();
        declare_domain(&mut self.tx, &self.declared, &host, key).await
    }

    /// What finishing would change, without changing anything: the whole application is
    /// rolled back (`pixelway check` shows what a restart would take over and remove).
    pub async fn preview(mut self) -> Result<Applied, StoreError> {
        let removed = remove_undeclared(&mut self.tx, &self.declared).await?;
        self.tx.rollback().await?;
        Ok(Applied {
            removed,
            taken_over: self.taken_over,
        })
    }

    /// Removes what the file no longer declares, records `fingerprint` as applied, and
    /// commits; returns what changed besides the declared writes.
    pub async fn finish(mut self, fingerprint: &str) -> Result<Applied, StoreError> {
        let started = std::time::Instant::now();
        let removed = remove_undeclared(&mut self.tx, &self.declared).await?;
        tracing::debug!(took = ?started.elapsed(), "apply: undeclared entities removed");
        sqlx::query(
            "INSERT INTO config_state (id, fingerprint, applied_at) VALUES (1, $1, $2) \
             ON CONFLICT (id) DO UPDATE SET fingerprint = excluded.fingerprint, \
             applied_at = excluded.applied_at",
        )
        .bind(fingerprint)
        .bind(crate::now_unix())
        .execute(&mut *self.tx)
        .await?;
        for statement in self.store.backend().around_apply().1 {
            sqlx::query(*statement).execute(&mut *self.tx).await?;
        }
        let committing = std::time::Instant::now();
        self.tx.commit().await?;
        tracing::debug!(took = ?committing.elapsed(), "apply: committed");
        let after = std::time::Instant::now();
        for statement in self.store.backend().after_apply() {
            sqlx::query(*statement).execute(self.store.pool()).await?;
        }
        tracing::debug!(took = ?after.elapsed(), "apply: store tidied (checkpoint, statistics)");
        Ok(Applied {
            removed,
            taken_over: self.taken_over,
        })
    }
}
