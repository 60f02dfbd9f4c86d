//! Config loading: the example file, environment overrides, and errors that name the key.
#![allow(clippy::result_large_err)] // figment::Jail closures return figment::Error by design

use super::*;
use figment::Jail;

const EXAMPLE: &str = include_str!("../../../../docs/pixelway.example.toml");

#[test]
fn example_file_loads_with_every_key() {
    Jail::expect_with(|jail| {
        // The local folder origin must exist (checked at start): one is made in the jail.
        let folder = jail.directory().join("images");
        std::fs::create_dir(&folder).map_err(|e| e.to_string())?;
        let example = EXAMPLE.replace("/srv/images", &folder.display().to_string());
        jail.create_file("pixelway.toml", &example)?;
        let config = Config::load(Some(Path::new("pixelway.toml"))).map_err(|e| e.to_string())?;
        assert_eq!(config.server.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(config.storage.cache_max_bytes, ByteSize::gib(10));
        assert_eq!(config.storage.original_ttl, Duration::from_secs(7 * 86400));
        assert_eq!(config.storage.s3.region, "us-east-1");
        assert_eq!(config.limits.max_input_pixels, 100_000_000);
        assert_eq!(config.limits.max_origin_bytes, ByteSize::mib(50));
        assert_eq!(config.limits.origin_timeout, Duration::from_secs(10));
        let demo = &config.accounts[0];
        assert_eq!(demo.origins.len(), 5);
        assert!(
            matches!(&demo.origins[0].spec, OriginSpec::S3 { prefix, .. } if prefix == "catalog")
        );
        assert!(
            matches!(&demo.origins[2].spec, OriginSpec::WebFolder { base_url, .. } if base_url == "http://127.0.0.1:8081/assets")
        );
        assert_eq!(demo.endpoints[1].origins, vec!["products", "backup"]);
        assert_eq!(
            demo.endpoints[1].default_image.as_deref(),
            Some("defaults/missing.jpg")
        );
        assert_eq!(demo.named_transformations[0].name, "thumb");
        assert_eq!(
            config.custom_domains[1].endpoint.as_deref(),
            Some("product-images")
        );
        assert_eq!(config.server.header_read_timeout, Duration::from_secs(10));
        assert_eq!(config.server.idle_timeout, Duration::from_secs(60));
        assert_eq!(config.server.max_connections, 10_000);
        assert_eq!(config.limits.transform_queue_wait, Duration::from_secs(10));
        Ok(())
    });
}

#[test]
fn environment_overrides_the_file() {
    Jail::expect_with(|jail| {
        jail.create_file("pixelway.toml", "[server]\nlisten = \"127.0.0.1:1\"\n")?;
        jail.set_env("PIXELWAY_SERVER__LISTEN", "127.0.0.1:9999");
        jail.set_env("PIXELWAY_LIMITS__ORIGIN_TIMEOUT", "3s");
        jail.set_env("PIXELWAY_CONFIG", "ignored.toml");
        let config = Config::load(Some(Path::new("pixelway.toml"))).map_err(|e| e.to_string())?;
        assert_eq!(config.server.listen.to_string(), "127.0.0.1:9999");
        assert_eq!(config.limits.origin_timeout, Duration::from_secs(3));
        Ok(())
    });
}

#[test]
fn errors_name_the_bad_key_and_value() {
    let cases = [
        ("[server]\nlisen = \"x\"\n", "lisen"),
        (
            "[limits]\norigin_timeout = \"soon\"\n",
            "limits.origin_timeout",
        ),
        ("[server]\nlisten = \"not-an-address\"\n", "server.listen"),
        (
            "[storage]\ncache_max_bytes = \"lots\"\n",
            "storage.cache_max_bytes",
        ),
        (
            "[[account]]\nid = \"demo\"\nprivate_key = \"a\"\npublic_key = \"b\"\n[[account.origin]]\nname = \"x\"\ntype = \"ftp\"\n",
            "ftp",
        ),
        (
            "[[account]]\nid = \"a/b\"\nprivate_key = \"a\"\npublic_key = \"b\"\n",
            "account.id",
        ),
        (
            "[[account]]\nid = \"demo\"\nprivate_key = \"a\"\npublic_key = \"b\"\n[[account.endpoint]]\nidentifier = \"x\"\norigins = [\"nope\"]\n",
            "nope",
        ),
        // The shared name rules (pixelway_control::validate), as every change is checked.
        (
            "[[account]]\nid = \"dashboard\"\nprivate_key = \"a\"\npublic_key = \"b\"\n",
            "account id \"dashboard\" is reserved",
        ),
        (
            "[[account]]\nid = \"demo\"\nprivate_key = \"a\"\npublic_key = \"b\"\n[[account.origin]]\nname = \"a/b\"\ntype = \"web_proxy\"\n",
            "origin name \"a/b\"",
        ),
        (
            "[[account]]\nid = \"demo\"\nprivate_key = \"a\"\npublic_key = \"b\"\n[[account.named_transformation]]\nname = \"w-1,h-2\"\ntransformation = \"w-1\"\n",
            "named transformation \"w-1,h-2\"",
        ),
        (
            "[[account]]\nid = \"demo\"\nprivate_key = \"a\"\npublic_key = \"b\"\n[[custom_domain]]\nhost = \"img.test:8080\"\naccount = \"demo\"\n",
            "custom_domain.host",
        ),
        // Declared twice: an error naming both places, never "the last one wins".
        (
            "[[account]]\nid = \"demo\"\nprivate_key = \"a\"\npublic_key = \"b\"\n[[account]]\nid = \"demo\"\nprivate_key = \"c\"\npublic_key = \"d\"\n",
            "account.id \"demo\" is declared twice ([[account]] #1 and #2)",
        ),
        (
            "[[account]]\nid = \"demo\"\nprivate_key = \"a\"\npublic_key = \"b\"\n[[account.origin]]\nname = \"web\"\ntype = \"web_proxy\"\n[[account.origin]]\nname = \"web\"\ntype = \"web_proxy\"\n",
            "account \"demo\": origin.name \"web\" is declared twice (#1 and #2)",
        ),
        (
            "[[account]]\nid = \"demo\"\nprivate_key = \"a\"\npublic_key = \"b\"\n[[account.endpoint]]\nidentifier = \"shop\"\n[[account.endpoint]]\nidentifier = \"x\"\n[[account.endpoint]]\nidentifier = \"shop\"\n",
            "endpoint.identifier \"shop\" is declared twice (#1 and #3)",
        ),
        (
            "[[account]]\nid = \"demo\"\nprivate_key = \"a\"\npublic_key = \"b\"\n[[custom_domain]]\nhost = \"img.test\"\naccount = \"demo\"\n[[custom_domain]]\nhost = \"IMG.test\"\naccount = \"demo\"\n",
            "custom_domain \"img.test\" is declared twice",
        ),
        // A custom domain that is also a public host.
        (
            "[server]\npublic_hosts = [\"img.test\"]\n[[account]]\nid = \"demo\"\nprivate_key = \"a\"\npublic_key = \"b\"\n[[custom_domain]]\nhost = \"img.test\"\naccount = \"demo\"\n",
            "is also in server.public_hosts",
        ),
        // Unknown keys in an origin's table are refused, naming the key and the origin.
        (
            "[[account]]\nid = \"demo\"\nprivate_key = \"a\"\npublic_key = \"b\"\n[[account.origin]]\nname = \"bucket\"\ntype = \"s3\"\nbucket = \"bkt\"\nprefx = \"x\"\n",
            "origin \"bucket\": unknown key `prefx`",
        ),
        (
            "[[account]]\nid = \"demo\"\nprivate_key = \"a\"\npublic_key = \"b\"\n[[account.origin]]\nname = \"site\"\ntype = \"web_folder\"\nbase_url = \"http://x.test\"\ntimout = \"5s\"\n",
            "origin \"site\": unknown key `timout`",
        ),
        // Origin values are checked at start: an S3 endpoint without a
        // scheme used to start, then panic on every request through it.
        (
            "[[account]]\nid = \"demo\"\nprivate_key = \"a\"\npublic_key = \"b\"\n[[account.origin]]\nname = \"bucket\"\ntype = \"s3\"\nbucket = \"images\"\nendpoint = \"127.0.0.1:9000\"\n",
            "origin \"bucket\": origin field endpoint: \"127.0.0.1:9000\" is not a URL",
        ),
        (
            "[[account]]\nid = \"demo\"\nprivate_key = \"a\"\npublic_key = \"b\"\n[[account.origin]]\nname = \"site\"\ntype = \"web_folder\"\nbase_url = \"not a url\"\n",
            "origin \"site\": origin field base_url: \"not a url\" is not a URL",
        ),
        (
            "[[account]]\nid = \"demo\"\nprivate_key = \"a\"\npublic_key = \"b\"\n[[account.origin]]\nname = \"disk\"\ntype = \"local_folder\"\npath = \"/no/such/folder\"\n",
            "origin \"disk\": origin field path: \"/no/such/folder\" is not a folder",
        ),
        (
            "[[account]]\nid = \"demo\"\nprivate_key = \"a\"\npublic_key = \"b\"\n[[account.origin]]\nname = \"bucket\"\ntype = \"s3\"\nbucket = \"images\"\nregion = \"us east\"\n",
            "origin field region",
        ),
        // Named transformations are parsed at start, the bad one named.
        (
            "[[account]]\nid = \"demo\"\nprivate_key = \"a\"\npublic_key = \"b\"\n[[account.named_transformation]]\nname = \"thumb\"\ntransformation = \"w-abc\"\n",
            "named_transformation \"thumb\"",
        ),
    ];
    for (text, expected) in cases {
        Jail::expect_with(|jail| {
            jail.create_file("pixelway.toml", text)?;
            let err = Config::load(Some(Path::new("pixelway.toml"))).expect_err(text);
            let message = format!("{err:#}");
            assert!(
                message.contains(expected),
                "{message:?} should name {expected:?}"
            );
            Ok(())
        });
    }
}

#[test]
fn missing_file_is_an_error() {
    let err = Config::load(Some(Path::new("/nonexistent/pixelway.toml"))).unwrap_err();
    assert!(err.to_string().contains("does not exist"));
}

#[test]
fn connection_limits_must_be_positive() {
    for (key, value) in [
        ("PIXELWAY_SERVER__HEADER_READ_TIMEOUT", "0s"),
        ("PIXELWAY_SERVER__IDLE_TIMEOUT", "0s"),
        ("PIXELWAY_SERVER__MAX_CONNECTIONS", "0"),
        ("PIXELWAY_LIMITS__TRANSFORM_QUEUE_WAIT", "0s"),
    ] {
        Jail::expect_with(|jail| {
            jail.set_env(key, value);
            let err = Config::load(None).unwrap_err().to_string();
            let named = key
                .trim_start_matches("PIXELWAY_")
                .replace("__", ".")
                .to_lowercase();
            assert!(err.contains(&named), "{key}: {err}");
            Ok(())
        });
    }
}

#[test]
fn environment_references_are_expanded_and_escaped() {
    let lookup = |name: &str| match name {
        "KEY" => Some("s3cr\"et\\".to_string()),
        "EMPTY" => Some(String::new()),
        _ => None,
    };
    let text = "a = \"${KEY}\"\nb = \"x${EMPTY}y\"\nc = \"$notref ${lower} ${\"\n\
                # a comment: ${MISSING}\nd = '${MISSING}' # literal\ne = \"\\\"${KEY}\"";
    let expanded = super::expand_env(text, lookup).unwrap();
    assert_eq!(
        expanded,
        "a = \"s3cr\\\"et\\\\\"\nb = \"xy\"\nc = \"$notref ${lower} ${\"\n\
         # a comment: ${MISSING}\nd = '${MISSING}' # literal\ne = \"\\\"s3cr\\\"et\\\\\""
    );
    let error = super::expand_env("a = 1\nb = \"${MISSING}\"", lookup).unwrap_err();
    assert_eq!(
        error.to_string(),
        "line 2: environment variable MISSING is not set (named as ${MISSING})"
    );
}

/// The keys the loader accepts in a table, read from the error it gives for an unknown one
/// (every table refuses unknown keys and lists the ones it takes).
fn accepted_keys(config_with_unknown: &str) -> std::collections::BTreeSet<String> {
    let mut accepted = std::collections::BTreeSet::new();
    Jail::expect_with(|jail| {
        jail.create_file("pixelway.toml", config_with_unknown)?;
        let error = Config::load(Some(Path::new("pixelway.toml")))
            .expect_err("an unknown key is refused")
            .to_string();
        let listed = error
            .split_once("expected")
            .unwrap_or_else(|| panic!("no list of keys in {error:?}"))
            .1;
        // The reader may add where the table sits ("in `endpoint`") after the list.
        let listed = listed.split("\nin `").next().unwrap_or(listed);
        // "expected `one of `listen`, `public_hosts`, …``": the names are the segments
        // between backticks that are bare identifiers.
        accepted = listed
            .split('`')
            .filter(|key| {
                !key.is_empty()
                    && key
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            })
            .map(str::to_string)
            .collect();
        Ok(())
    });
    accepted
}

/// The keys a table of the example file has (`path` names the table; `[0]` the first of an
/// array of tables).
fn example_keys(path: &[&str]) -> std::collections::BTreeSet<String> {
    let mut value: serde_json::Value =
        figment::Figment::from(figment::providers::Toml::string(EXAMPLE))
            .extract()
            .unwrap();
    for step in path {
        value = match step.parse::<usize>() {
            Ok(index) => value[index].take(),
            Err(_) => value[*step].take(),
        };
    }
    value
        .as_object()
        .unwrap_or_else(|| panic!("no table {path:?} in the example"))
        .keys()
        .cloned()
        .collect()
}

/// Every key the loader accepts is in docs/pixelway.example.toml and every key there is one the
/// loader accepts, table by table, so the two cannot drift apart.
#[test]
fn the_example_file_names_every_key_the_loader_takes() {
    const ACCOUNT: &str = "[[account]]\nid = \"a\"\nprivate_key = \"k\"\npublic_key = \"p\"\n";
    let tables: [(&[&str], String); 9] = [
        (&["server"], "[server]\nzz_unknown = 1\n".into()),
        (&["storage"], "[storage]\nzz_unknown = 1\n".into()),
        (&["storage", "s3"], "[storage.s3]\nzz_unknown = 1\n".into()),
        (&["limits"], "[limits]\nzz_unknown = 1\n".into()),
        (&["delivery"], "[delivery]\nzz_unknown = 1\n".into()),
        (&["account", "0"], format!("{ACCOUNT}zz_unknown = 1\n")),
        (
            &["account", "0", "endpoint", "1"],
            format!("{ACCOUNT}[[account.endpoint]]\nidentifier = \"x\"\nzz_unknown = 1\n"),
        ),
        (
            &["account", "0", "named_transformation", "0"],
            format!(
                "{ACCOUNT}[[account.named_transformation]]\nname = \"x\"\ntransformation = \"w-1\"\nzz_unknown = 1\n"
            ),
        ),
        (
            &["custom_domain", "1"],
            format!(
                "{ACCOUNT}[[custom_domain]]\nhost = \"x.test\"\naccount = \"a\"\nzz_unknown = 1\n"
            ),
        ),
    ];
    for (path, probe) in tables {
        let accepted = accepted_keys(&probe);
        let documented = example_keys(path);
        let undocumented: Vec<_> = accepted.difference(&documented).collect();
        let unknown: Vec<_> = documented.difference(&accepted).collect();
        assert!(
            undocumented.is_empty() && unknown.is_empty(),
            "table {path:?}: accepted but not in the example: {undocumented:?}; in the example but not accepted: {unknown:?}"
        );
    }
}
