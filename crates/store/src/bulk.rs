//! Applying many accounts of a config file at once: each statement writes a chunk of accounts
//! (their rows, origins, endpoints, origin order, named transformations) with multi-row
//! upserts, instead of a dozen statements per account. A first start with 100,000 accounts
//! is then a few thousand statements, not millions. Names are checked before (by
//! `pixelway_control::validate`); here a new account gets its default endpoint, the first
//! origin a declared account ever gets joins that default endpoint, and every row is marked
//! with the file's key for it and this generation.

use crate::provenance::ConfigApply;
use crate::{AccountSettings, EndpointInput, StoreError, new_id, now_unix};
use pixelway_origins::OriginSpec;
use sqlx::{Any, AnyConnection, QueryBuilder, Row};
use std::collections::HashMap;

/// An account as the config file declares it, with everything in it.
#[derive(Debug, Clone)]
pub struct DeclaredAccount<'a> {
    pub id: &'a str,
    pub private_key: &'a str,
    pub public_key: &'a str,
    pub settings: AccountSettings,
    /// The file's key for the account (`[[account]] id = "…"`).
    pub key: String,
    /// (name, spec, key)
    pub origins: Vec<(&'a str, &'a OriginSpec, String)>,
    /// (endpoint, key)
    pub endpoints: Vec<(EndpointInput, String)>,
    /// (name, transformation, key)
    pub named_transformations: Vec<(&'a str, &'a str, String)>,
}

impl ConfigApply<'_> {
    /// Writes every declared account, in chunks (their names are checked by the caller).
    pub async fn accounts(&mut self, accounts: &[DeclaredAccount<'_>]) -> Result<(), StoreError> {
        for chunk in accounts.chunks(self.store().backend().accounts_per_batch()) {
            self.write_chunk(chunk).await?;
        }
        Ok(())
    }

    async fn write_chunk(&mut self, chunk: &[DeclaredAccount<'_>]) -> Result<(), StoreError> {
        let generation = self.generation().to_string();
        let store = self.store();
        let sealed_keys: Vec<String> = chunk
            .iter()
            .map(|a| store.secrets().seal(a.private_key))
            .collect();
        let mut origins = Vec::new();
        for account in chunk {
            for (name, spec, key) in &account.origins {
                origins.push((account.id, *name, store.seal_spec(spec)?, key.as_str()));
            }
        }
        let ids: Vec<&str> = chunk.iter().map(|a| a.id).collect();
        let taken = taken_over(self.connection(), chunk, &ids).await?;
        self.note_taken_over(taken);
        let tx = self.connection();
        upsert_accounts(tx, chunk, &sealed_keys, &generation).await?;
        let had_origins = accounts_with_origins(tx, &ids).await?;
        upsert_origins(tx, &origins, &generation).await?;
        let origin_ids = ids_by_name(tx, "origins", "name", &ids).await?;
        upsert_endpoints(tx, chunk, &generation).await?;
        let endpoint_ids = ids_by_name(tx, "endpoints", "identifier", &ids).await?;
        let links = endpoint_links(chunk, &had_origins, &origin_ids, &endpoint_ids)?;
        replace_links(tx, &links).await?;
        upsert_named(tx, chunk, &generation).await
    }
}

/// What the API made that this chunk now declares (same account id, origin or named
/// transformation name, endpoint identifier): the file takes each over. One line each, naming
/// the entity and the file's key for it.
async fn taken_over(
    tx: &mut AnyConnection,
    chunk: &[DeclaredAccount<'_>],
    ids: &[&str],
) -> Result<Vec<String>, StoreError> {
    let mut query: QueryBuilder<Any> =
        QueryBuilder::new("SELECT 'account' AS kind, id AS account_id, id AS name FROM accounts");
    push_in(&mut query, "id", ids);
    query.push(" AND managed_by IS NULL");
    for (kind, table, column) in [
        ("origin", "origins", "name"),
        ("endpoint", "endpoints", "identifier"),
        ("named transformation", "named_transformations", "name"),
    ] {
        query.push(format!(
            " UNION ALL SELECT '{kind}', account_id, {column} FROM {table}"
        ));
        push_in(&mut query, "account_id", ids);
        query.push(" AND managed_by IS NULL");
    }
    let rows = numbered(&mut query, tx).fetch_all(&mut *tx).await?;
    let mut taken = Vec::new();
    for row in rows {
        let (kind, account_id, name): (String, String, String) = (
            row.try_get("kind")?,
            row.try_get("account_id")?,
            row.try_get("name")?,
        );
        let Some(account) = chunk.iter().find(|a| a.id == account_id) else {
            continue;
        };
        let key = match kind.as_str() {
            "account" => Some(&account.key),
            "origin" => account
                .origins
                .iter()
                .find(|(n, _, _)| *n == name)
                .map(|(_, _, key)| key),
            "endpoint" => account
                .endpoints
                .iter()
                .find(|(e, _)| e.identifier == name)
                .map(|(_, key)| key),
            _ => account
                .named_transformations
                .iter()
                .find(|(n, _, _)| *n == name)
                .map(|(_, _, key)| key),
        };
        if let Some(key) = key {
            taken.push(format!(
                "{kind} {name:?} of account {account_id:?} was made through the API; the config \
                 file now manages it ({key})"
            ));
        }
    }
    Ok(taken)
}

/// The accounts (managed by the file) and their default endpoints.
async fn upsert_accounts(
    tx: &mut AnyConnection,
    chunk: &[DeclaredAccount<'_>],
    sealed_keys: &[String],
    generation: &str,
) -> Result<(), StoreError> {
    let now = now_unix();
    let mut query: QueryBuilder<Any> = QueryBuilder::new(
        "INSERT INTO accounts (id, private_key_enc, public_key, hide_origin_header, \
         use_best_format, auto_avif, created_at, managed_by, config_generation) ",
    );
    query.push_values(
        chunk.iter().zip(sealed_keys),
        |mut row, (account, sealed)| {
            row.push_bind(account.id)
                .push_bind(sealed.as_str())
                .push_bind(account.public_key)
                .push_bind(account.settings.hide_origin_header as i64)
                .push_bind(account.settings.use_best_format.map(i64::from))
                .push_bind(account.settings.auto_avif.map(i64::from))
                .push_bind(now)
                .push_bind(account.key.as_str())
                .push_bind(generation);
        },
    );
    query.push(
        " ON CONFLICT (id) DO UPDATE SET private_key_enc = excluded.private_key_enc, \
         public_key = excluded.public_key, hide_origin_header = excluded.hide_origin_header, \
         use_best_format = excluded.use_best_format, auto_avif = excluded.auto_avif, \
         managed_by = excluded.managed_by, config_generation = excluded.config_generation",
    );
    numbered(&mut query, tx).execute(&mut *tx).await?;
    let mut defaults: QueryBuilder<Any> =
        QueryBuilder::new("INSERT INTO endpoints (id, account_id, identifier, created_at) ");
    defaults.push_values(chunk, |mut row, account| {
        row.push_bind(new_id())
            .push_bind(account.id)
            .push_bind("")
            .push_bind(now);
    });
    defaults.push(" ON CONFLICT (account_id, identifier) DO NOTHING");
    numbered(&mut defaults, tx).execute(&mut *tx).await?;
    Ok(())
}

/// The builder's statement with the parameters `tx`'s database wants: sqlx's `QueryBuilder`
/// writes `?` for the `Any` driver, which PostgreSQL refuses, so there they become `$1, $2, …`
/// (see [`crate::backend::Backend::numbers_parameters`]). The statements built here hold no `?`
/// of their own.
fn numbered<'q>(
    builder: &mut QueryBuilder<Any>,
    tx: &AnyConnection,
) -> sqlx::query::Query<'q, Any, sqlx::any::AnyArguments> {
    use sqlx::Execute;
    let text = builder.sql();
    let sql = if crate::backend::Backend::of_connection(tx).numbers_parameters() {
        let mut sql = String::with_capacity(text.as_str().len() + 64);
        for (number, piece) in text.as_str().split('?').enumerate() {
            if number > 0 {
                sql.push_str(&format!("${number}"));
            }
            sql.push_str(piece);
        }
        sql
    } else {
        text.as_str().to_string()
    };
    let arguments = builder
        .build()
        .take_arguments()
        .ok()
        .flatten()
        .unwrap_or_default();
    sqlx::query_with(crate::audited(sql), arguments)
}

/// `WHERE column IN (…)` over `ids`.
fn push_in(query: &mut QueryBuilder<Any>, column: &str, ids: &[&str]) {
    query.push(format!(" WHERE {column} IN ("));
    let mut list = query.separated(", ");
    for id in ids {
        list.push_bind(id.to_string());
    }
    query.push(")");
}

/// Which of the accounts have any origin yet (before this apply adds its own).
async fn accounts_with_origins(
    tx: &mut AnyConnection,
    ids: &[&str],
) -> Result<std::collections::HashSet<String>, StoreError> {
    let mut query: QueryBuilder<Any> = QueryBuilder::new("SELECT DISTINCT account_id FROM origins");
    push_in(&mut query, "account_id", ids);
    let rows = numbered(&mut query, tx).fetch_all(&mut *tx).await?;
    rows.iter()
        .map(|row| Ok(row.try_get::<String, _>("account_id")?))
        .collect()
}

type SealedOrigin<'a> = (&'a str, &'a str, crate::rows::SealedSpec, &'a str);

async fn upsert_origins(
    tx: &mut AnyConnection,
    origins: &[SealedOrigin<'_>],
    generation: &str,
) -> Result<(), StoreError> {
    if origins.is_empty() {
        return Ok(());
    }
    let now = now_unix();
    let mut query: QueryBuilder<Any> = QueryBuilder::new(
        "INSERT INTO origins (id, account_id, name, kind, spec_json, secrets_enc, created_at, \
         managed_by, config_generation) ",
    );
    query.push_values(origins, |mut row, (account, name, sealed, key)| {
        row.push_bind(new_id())
            .push_bind(*account)
            .push_bind(*name)
            .push_bind(sealed.kind.as_str())
            .push_bind(sealed.spec_json.as_str())
            .push_bind(sealed.sealed.as_deref())
            .push_bind(now)
            .push_bind(*key)
            .push_bind(generation);
    });
    query.push(
        " ON CONFLICT (account_id, name) DO UPDATE SET kind = excluded.kind, \
         spec_json = excluded.spec_json, secrets_enc = excluded.secrets_enc, \
         managed_by = excluded.managed_by, config_generation = excluded.config_generation",
    );
    numbered(&mut query, tx).execute(&mut *tx).await?;
    Ok(())
}

/// (account, name) → id of the rows of `table` (`origins` by name, `endpoints` by identifier).
async fn ids_by_name(
    tx: &mut AnyConnection,
    table: &str,
    name_column: &str,
    accounts: &[&str],
) -> Result<HashMap<(String, String), String>, StoreError> {
    let mut query: QueryBuilder<Any> = QueryBuilder::new(format!(
        "SELECT id, account_id, {name_column} AS name FROM {table}"
    ));
    push_in(&mut query, "account_id", accounts);
    let rows = numbered(&mut query, tx).fetch_all(&mut *tx).await?;
    rows.iter()
        .map(|row| {
            Ok((
                (row.try_get("account_id")?, row.try_get("name")?),
                row.try_get("id")?,
            ))
        })
        .collect()
}

async fn upsert_endpoints(
    tx: &mut AnyConnection,
    chunk: &[DeclaredAccount<'_>],
    generation: &str,
) -> Result<(), StoreError> {
    let rows: Vec<(&str, &EndpointInput, &str)> = chunk
        .iter()
        .flat_map(|a| {
            a.endpoints
                .iter()
                .map(move |(e, key)| (a.id, e, key.as_str()))
        })
        .collect();
    if rows.is_empty() {
        return Ok(());
    }
    let now = now_unix();
    let mut query: QueryBuilder<Any> = QueryBuilder::new(
        "INSERT INTO endpoints (id, account_id, identifier, description, default_image, \
         signed_urls_only, named_transformations_only, created_at, managed_by, \
         config_generation) ",
    );
    query.push_values(rows, |mut row, (account, endpoint, key)| {
        row.push_bind(new_id())
            .push_bind(account)
            .push_bind(endpoint.identifier.as_str())
            .push_bind(endpoint.description.as_str())
            .push_bind(endpoint.default_image.as_deref())
            .push_bind(endpoint.signed_urls_only as i64)
            .push_bind(endpoint.named_transformations_only as i64)
            .push_bind(now)
            .push_bind(key)
            .push_bind(generation);
    });
    query.push(
        " ON CONFLICT (account_id, identifier) DO UPDATE SET description = excluded.description, \
         default_image = excluded.default_image, signed_urls_only = excluded.signed_urls_only, \
         named_transformations_only = excluded.named_transformations_only, \
         managed_by = excluded.managed_by, config_generation = excluded.config_generation",
    );
    numbered(&mut query, tx).execute(&mut *tx).await?;
    Ok(())
}

/// The origin order to write: (endpoint id, origin ids). An account's first origin joins its
/// default endpoint; a declared endpoint (the default one too) then sets its own order.
fn endpoint_links(
    chunk: &[DeclaredAccount<'_>],
    had_origins: &std::collections::HashSet<String>,
    origin_ids: &HashMap<(String, String), String>,
    endpoint_ids: &HashMap<(String, String), String>,
) -> Result<Vec<(String, Vec<String>)>, StoreError> {
    let id_of = |ids: &HashMap<(String, String), String>, account: &str, name: &str, what| {
        ids.get(&(account.to_string(), name.to_string()))
            .cloned()
            .ok_or_else(|| StoreError::NotFound {
                what,
                name: name.to_string(),
            })
    };
    let mut links = Vec::new();
    for account in chunk {
        if !had_origins.contains(account.id)
            && let Some((first, _, _)) = account.origins.first()
        {
            let default = id_of(endpoint_ids, account.id, "", "endpoint")?;
            links.push((
                default,
                vec![id_of(origin_ids, account.id, first, "origin")?],
            ));
        }
        for (endpoint, _) in &account.endpoints {
            let id = id_of(endpoint_ids, account.id, &endpoint.identifier, "endpoint")?;
            let origins = endpoint
                .origin_names
                .iter()
                .map(|name| id_of(origin_ids, account.id, name, "origin"))
                .collect::<Result<Vec<_>, _>>()?;
            links.push((id, origins));
        }
    }
    Ok(links)
}

/// Replaces the origin order of each endpoint named in `links`.
async fn replace_links(
    tx: &mut AnyConnection,
    links: &[(String, Vec<String>)],
) -> Result<(), StoreError> {
    if links.is_empty() {
        return Ok(());
    }
    let endpoints: Vec<&str> = links.iter().map(|(id, _)| id.as_str()).collect();
    let mut delete: QueryBuilder<Any> = QueryBuilder::new("DELETE FROM endpoint_origins");
    push_in(&mut delete, "endpoint_id", &endpoints);
    numbered(&mut delete, tx).execute(&mut *tx).await?;
    // The default endpoint may appear twice (first origin, then declared): the last wins.
    let mut last: HashMap<&str, &[String]> = HashMap::new();
    for (endpoint, origins) in links {
        last.insert(endpoint.as_str(), origins.as_slice());
    }
    let rows: Vec<(&str, usize, &str)> = last
        .iter()
        .flat_map(|(endpoint, origins)| {
            origins
                .iter()
                .enumerate()
                .map(move |(position, origin)| (*endpoint, position, origin.as_str()))
        })
        .collect();
    for part in rows.chunks(5000) {
        let mut insert: QueryBuilder<Any> =
            QueryBuilder::new("INSERT INTO endpoint_origins (endpoint_id, position, origin_id) ");
        insert.push_values(part, |mut row, (endpoint, position, origin)| {
            row.push_bind(*endpoint)
                .push_bind(*position as i64)
                .push_bind(*origin);
        });
        numbered(&mut insert, tx).execute(&mut *tx).await?;
    }
    Ok(())
}

async fn upsert_named(
    tx: &mut AnyConnection,
    chunk: &[DeclaredAccount<'_>],
    generation: &str,
) -> Result<(), StoreError> {
    let rows: Vec<(&str, &str, &str, &str)> = chunk
        .iter()
        .flat_map(|a| {
            a.named_transformations
                .iter()
                .map(move |(name, text, key)| (a.id, *name, *text, key.as_str()))
        })
        .collect();
    if rows.is_empty() {
        return Ok(());
    }
    let now = now_unix();
    let mut query: QueryBuilder<Any> = QueryBuilder::new(
        "INSERT INTO named_transformations (id, account_id, name, transformation, enabled, \
         created_at, managed_by, config_generation) ",
    );
    query.push_values(rows, |mut row, (account, name, text, key)| {
        row.push_bind(new_id())
            .push_bind(account)
            .push_bind(name)
            .push_bind(text)
            .push_bind(1i64)
            .push_bind(now)
            .push_bind(key)
            .push_bind(generation);
    });
    query.push(
        " ON CONFLICT (account_id, name) DO UPDATE SET transformation = excluded.transformation, \
         managed_by = excluded.managed_by, config_generation = excluded.config_generation",
    );
    numbered(&mut query, tx).execute(&mut *tx).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Store;

    fn web(url: &str) -> OriginSpec {
        serde_json::from_value(serde_json::json!({"type": "web_folder", "base_url": url})).unwrap()
    }

    fn account<'a>(id: &'a str, origins: &'a [(&'a str, OriginSpec)]) -> DeclaredAccount<'a> {
        DeclaredAccount {
            id,
            private_key: "p",
            public_key: "q",
            settings: AccountSettings::default(),
            key: format!("[[account]] id = {id:?}"),
            origins: origins
                .iter()
                .map(|(name, spec)| (*name, spec, format!("origin {name}")))
                .collect(),
            endpoints: Vec::new(),
            named_transformations: Vec::new(),
        }
    }

    async fn apply(store: &Store, accounts: &[DeclaredAccount<'_>]) -> Vec<String> {
        let mut apply = store.begin_config_apply().await.unwrap();
        apply.accounts(accounts).await.unwrap();
        apply.finish("fingerprint").await.unwrap().removed
    }

    async fn default_origins(store: &Store, account: &str) -> Vec<String> {
        let id = store.default_endpoint_id(account).await.unwrap();
        let ids = store.endpoint(account, &id).await.unwrap().origin_ids;
        let origins = store.origins_of(account).await.unwrap();
        ids.iter()
            .map(|id| origins.iter().find(|o| &o.id == id).unwrap().name.clone())
            .collect()
    }

    #[tokio::test]
    async fn bulk_writes_follow_the_per_entity_rules() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::tests::open_store(dir.path()).await;
        let origins = [("a", web("http://a.test")), ("b", web("http://b.test"))];
        // More accounts than one chunk, so chunks are crossed.
        let chunk = store.backend().accounts_per_batch();
        let ids: Vec<String> = (0..chunk + 5).map(|i| format!("t{i}")).collect();
        let mut declared: Vec<_> = ids.iter().map(|id| account(id, &origins)).collect();
        declared[0].endpoints.push((
            EndpointInput {
                identifier: "shop".into(),
                origin_names: vec!["b".into(), "a".into()],
                ..Default::default()
            },
            "shop".into(),
        ));
        declared[0]
            .named_transformations
            .push(("thumb", "w-100", "thumb".into()));
        assert!(apply(&store, &declared).await.is_empty());
        // The first origin an account gets joins its default endpoint.
        assert_eq!(default_origins(&store, "t0").await, ["a"]);
        assert_eq!(default_origins(&store, &ids[chunk + 4]).await, ["a"]);
        let shop = store
            .endpoints_of("t0")
            .await
            .unwrap()
            .into_iter()
            .find(|e| e.identifier == "shop")
            .unwrap();
        let names = store.origins_of("t0").await.unwrap();
        let name_of = |id: &String| names.iter().find(|o| &o.id == id).unwrap().name.clone();
        assert_eq!(
            shop.origin_ids.iter().map(name_of).collect::<Vec<_>>(),
            ["b", "a"]
        );
        assert_eq!(shop.managed_by.as_deref(), Some("shop"));

        // Applying again keeps ids; the default endpoint, now declared, takes its own order;
        // what the file stops declaring goes.
        let before = store.origins_of("t1").await.unwrap();
        declared[1].endpoints.push((
            EndpointInput {
                identifier: String::new(),
                origin_names: vec!["b".into()],
                ..Default::default()
            },
            "default".into(),
        ));
        declared[0].endpoints.clear();
        declared.truncate(2);
        let removed = apply(&store, &declared).await;
        assert_eq!(store.origins_of("t1").await.unwrap(), before);
        assert_eq!(default_origins(&store, "t1").await, ["b"]);
        assert!(removed.contains(&"shop".to_string()), "{removed:?}");
        assert!(removed.iter().any(|k| k.contains("t2")), "{removed:?}");
        assert!(
            store.endpoints_of("t2").await.unwrap().is_empty(),
            "t2 is gone"
        );
    }
}
