//! Which entities the config file manages. Each start-up that applies the file is a generation:
//! every entity the file declares is marked with the file's key for it and that generation;
//! afterwards, managed entities of an older generation are ones the file no longer declares, and
//! they are removed. Entities made through the API are never marked, so the file never touches
//! them — unless it declares one by the same name, which it then takes over.

use crate::{Store, StoreError};

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

/// An entity, by its natural key.
#[derive(Debug, Clone, Copy)]
pub enum Entity<'a> {
    Account(&'a str),
    Origin {
        account: &'a str,
        name: &'a str,
    },
    Endpoint {
        account: &'a str,
        identifier: &'a str,
    },
    NamedTransformation {
        account: &'a str,
        name: &'a str,
    },
    Domain(&'a str),
}

impl Store {
    /// Marks `entity` as declared by the config file under `key` in this generation.
    pub async fn declare(
        &self,
        declared: &Declared,
        entity: Entity<'_>,
        key: &str,
    ) -> Result<(), StoreError> {
        let (table, condition, first, second) = match entity {
            Entity::Account(id) => ("accounts", "id = $3", id, ""),
            Entity::Origin { account, name } => {
                ("origins", "account_id = $3 AND name = $4", account, name)
            }
            Entity::Endpoint {
                account,
                identifier,
            } => (
                "endpoints",
                "account_id = $3 AND identifier = $4",
                account,
                identifier,
            ),
            Entity::NamedTransformation { account, name } => (
                "named_transformations",
                "account_id = $3 AND name = $4",
                account,
                name,
            ),
            Entity::Domain(host) => ("custom_domains", "host = $3", host, ""),
        };
        let sql =
            format!("UPDATE {table} SET managed_by = $1, config_generation = $2 WHERE {condition}");
        let mut query = sqlx::query(crate::audited(sql))
            .bind(key)
            .bind(&declared.generation)
            .bind(first);
        if !second.is_empty() || matches!(entity, Entity::Endpoint { .. }) {
            query = query.bind(second);
        }
        query.execute(self.pool()).await?;
        Ok(())
    }

    /// Removes what the config file managed before but no longer declares; returns the keys
    /// removed (an account goes with everything in it).
    pub async fn remove_undeclared(&self, declared: &Declared) -> Result<Vec<String>, StoreError> {
        let mut removed = Vec::new();
        let mut tx = self.write_transaction().await?;
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
        tx.commit().await?;
        Ok(removed)
    }
}
