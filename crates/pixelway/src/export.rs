//! `pixelway config export`: the store's entities (accounts, origins, URL endpoints, named
//! transformations, custom domains — whether the config file or the API made them) printed as
//! the `[[account]]` and `[[custom_domain]]` sections of a config file which, given back to
//! `pixelway serve --config`, reproduces them. Secrets are written as `${ENV}` references, never
//! as values; the names to set are listed on standard error.

use pixelway_store::{Snapshot, Store};
use serde_json::Value;
use std::collections::HashMap;
use std::fmt::Write;

/// The config text, and the environment variables its secrets are read from.
pub struct Exported {
    pub toml: String,
    pub secret_variables: Vec<String>,
}

/// A TOML basic string (JSON's escapes are TOML's).
fn quoted(text: &str) -> String {
    serde_json::to_string(text).expect("a string serialises")
}

/// The environment variable a secret is read from: `PIXELWAY_SECRET_<PARTS…>`.
fn variable(parts: &[&str]) -> String {
    let mut name = String::from("PIXELWAY_SECRET");
    for part in parts {
        name.push('_');
        name.extend(part.chars().map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        }));
    }
    name
}

/// A TOML value for a JSON scalar or array of scalars.
fn toml_value(value: &Value) -> Option<String> {
    Some(match value {
        Value::String(s) => quoted(s),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::Array(items) => {
            let items: Option<Vec<String>> = items.iter().map(toml_value).collect();
            format!("[{}]", items?.join(", "))
        }
        Value::Null | Value::Object(_) => return None,
    })
}

/// Reads the store and writes the config sections.
pub async fn export(store: &Store) -> anyhow::Result<Exported> {
    let snapshot = store.snapshot().await?;
    Ok(render(&snapshot))
}

fn render(snapshot: &Snapshot) -> Exported {
    let mut toml = String::from(
        "# Written by `pixelway config export`: the store's accounts, origins, URL endpoints,\n\
         # named transformations and custom domains. Secrets are references to environment\n\
         # variables (${…}): set the variables the export listed before `pixelway serve\n\
         # --config` reads this file.\n",
    );
    let mut secret_variables = Vec::new();
    let origin_names: HashMap<&str, &str> = snapshot
        .origins
        .iter()
        .map(|o| (o.id.as_str(), o.name.as_str()))
        .collect();
    for account in &snapshot.accounts {
        let id = account.id.as_str();
        let key_variable = variable(&[id, "private_key"]);
        let _ = write!(
            toml,
            "\n[[account]]\nid = {}\nprivate_key = \"${{{key_variable}}}\"\npublic_key = {}\n",
            quoted(id),
            quoted(&account.public_key)
        );
        secret_variables.push(key_variable);
        let settings = &account.settings;
        if settings.hide_origin_header {
            toml.push_str("hide_origin_header = true\n");
        }
        if let Some(on) = settings.use_best_format {
            let _ = writeln!(toml, "use_best_format = {on}");
        }
        if let Some(on) = settings.auto_avif {
            let _ = writeln!(toml, "auto_avif = {on}");
        }
        for origin in snapshot.origins.iter().filter(|o| o.account_id == id) {
            let mut spec = origin.spec.clone();
            let secrets = spec.take_secrets();
            let _ = write!(
                toml,
                "\n  [[account.origin]]\n  name = {}\n",
                quoted(&origin.name)
            );
            if let Ok(Value::Object(fields)) = serde_json::to_value(&spec) {
                for (field, value) in &fields {
                    if let Some(value) = toml_value(value)
                        && !secrets.contains_key(field)
                    {
                        let _ = writeln!(toml, "  {field} = {value}");
                    }
                }
            }
            for field in secrets.keys() {
                let name = variable(&[id, &origin.name, field]);
                let _ = writeln!(toml, "  {field} = \"${{{name}}}\"");
                secret_variables.push(name);
            }
        }
        for endpoint in snapshot.endpoints.iter().filter(|e| e.account_id == id) {
            let origins: Vec<String> = endpoint
                .origin_ids
                .iter()
                .filter_map(|o| origin_names.get(o.as_str()))
                .map(|name| quoted(name))
                .collect();
            let _ = write!(
                toml,
                "\n  [[account.endpoint]]\n  identifier = {}\n  origins = [{}]\n",
                quoted(&endpoint.identifier),
                origins.join(", ")
            );
            if !endpoint.description.is_empty() {
                let _ = writeln!(toml, "  description = {}", quoted(&endpoint.description));
            }
            if let Some(image) = &endpoint.default_image {
                let _ = writeln!(toml, "  default_image = {}", quoted(image));
            }
            if endpoint.signed_urls_only {
                toml.push_str("  signed_urls_only = true\n");
            }
            if endpoint.named_transformations_only {
                toml.push_str("  named_transformations_only = true\n");
            }
        }
        for named in snapshot
            .named_transformations
            .iter()
            .filter(|n| n.account_id == id)
        {
            if !named.enabled {
                let _ = writeln!(
                    toml,
                    "\n  # disabled, left out: named transformation {}",
                    quoted(&named.name)
                );
                continue;
            }
            let _ = write!(
                toml,
                "\n  [[account.named_transformation]]\n  name = {}\n  transformation = {}\n",
                quoted(&named.name),
                quoted(&named.transformation)
            );
        }
    }
    for domain in &snapshot.domains {
        let _ = write!(
            toml,
            "\n[[custom_domain]]\nhost = {}\naccount = {}\n",
            quoted(&domain.host),
            quoted(&domain.account_id)
        );
        if let Some(identifier) = &domain.endpoint_identifier {
            let _ = writeln!(toml, "endpoint = {}", quoted(identifier));
        }
    }
    Exported {
        toml,
        secret_variables,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_variables_are_named_after_their_place() {
        assert_eq!(
            variable(&["acme-1", "s3.backup", "secret_access_key"]),
            "PIXELWAY_SECRET_ACME_1_S3_BACKUP_SECRET_ACCESS_KEY"
        );
        assert_eq!(
            toml_value(&serde_json::json!(["a", 1, true])).unwrap(),
            "[\"a\", 1, true]"
        );
        assert_eq!(quoted("a\"b\\c\n"), "\"a\\\"b\\\\c\\n\"");
    }
}
