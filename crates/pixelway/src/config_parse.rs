//! Parsing a config file's TOML text quickly when it declares many tenants: the text is cut
//! at its `[[account]]` lines into one piece per core, the pieces are parsed at once on their
//! own threads and their tables joined (accounts and custom domains appended in file order).
//! The result is the table a whole-file parse gives; whenever the pieces do not join cleanly
//! (a piece does not parse on its own, or two pieces set the same key) the whole file is parsed
//! the ordinary way, so errors and their line numbers are toml's own.
//!
//! [`settings_only`] goes further for a start that needs no entity: the settings' lines alone.

/// Below this many `[[account]]` tables the file is parsed whole.
const PARALLEL_FROM: usize = 2000;
/// Arrays of tables that may continue from one piece into the next.
const APPENDED: [&str; 2] = ["account", "custom_domain"];

/// The file's table.
pub fn parse(text: &str) -> Result<toml::Table, toml::de::Error> {
    let pieces = split_at_accounts(text);
    if pieces.len() < 2 {
        return text.parse();
    }
    let parsed: Vec<Result<toml::Table, toml::de::Error>> = std::thread::scope(|scope| {
        let handles: Vec<_> = pieces
            .iter()
            .map(|piece| scope.spawn(move || piece.parse::<toml::Table>()))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a parser thread panicked"))
            .collect()
    });
    match join(parsed) {
        Some(table) => Ok(table),
        None => text.parse(),
    }
}

/// The file's text with the lines of its `[[account]]` and `[[custom_domain]]` tables (their
/// sub-tables included) blanked, so line numbers stay: the settings alone. `None` when the
/// lines cannot be told apart this simply — a multi-line string, a quoted table name, an
/// inline `account = …` — and the whole file must be parsed. Whoever reads the entities later
/// checks that the whole file's settings are these.
pub fn settings_only(text: &str) -> Option<String> {
    if text.contains("\"\"\"") || text.contains("'''") {
        return None;
    }
    let mut settings = String::with_capacity(text.len().min(64 * 1024));
    let mut in_entity = false;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim_start();
        if let Some(header) = trimmed.strip_prefix('[') {
            in_entity = is_entity_table(header)?;
        } else if !in_entity && starts_with_entity_key(trimmed) {
            return None;
        }
        match in_entity {
            true if line.ends_with('\n') => settings.push('\n'),
            true => {}
            false => settings.push_str(line),
        }
    }
    Some(settings)
}

/// Whether a table header (after its first `[`) opens an entity table; `None`: cannot tell.
fn is_entity_table(header: &str) -> Option<bool> {
    let name = header.trim_start_matches('[').trim_start();
    if name.starts_with(['"', '\'']) {
        return None;
    }
    let first = name
        .split(|c: char| c == '.' || c == ']' || c.is_whitespace())
        .next()
        .unwrap_or_default();
    Some(APPENDED.contains(&first))
}

/// Whether a line sets a top-level `account` or `custom_domain` key inline.
fn starts_with_entity_key(line: &str) -> bool {
    APPENDED.iter().any(|key| {
        line.strip_prefix(key).is_some_and(|rest| {
            rest.starts_with(|c: char| c == '=' || c == '.' || c.is_whitespace())
        })
    })
}

/// A file's entities read straight into their types, and the rest of its table.
pub struct Entities<A, D> {
    pub accounts: Vec<A>,
    pub domains: Vec<D>,
    /// Everything else the file sets (its settings).
    pub rest: toml::Table,
}

/// Reads the file's `[[account]]` and `[[custom_domain]]` tables straight into `A` and `D`,
/// one piece of the text per core at once, without building a value tree of them first (with a
/// hundred thousand tenants the tree was most of the time and memory of reading them).
/// `None` when a piece does not read this way (a mistake somewhere, or pieces that do not join
/// as a whole-file parse would): the caller then reads the file the ordinary way, whose errors
/// name the table they are in.
pub fn entities<A, D>(text: &str) -> Option<Entities<A, D>>
where
    A: serde::de::DeserializeOwned + Send,
    D: serde::de::DeserializeOwned + Send,
{
    let pieces = split_at_accounts(text);
    let read: Vec<Option<Entities<A, D>>> = std::thread::scope(|scope| {
        let handles: Vec<_> = pieces
            .iter()
            .map(|piece| scope.spawn(move || toml::from_str::<Piece<A, D>>(piece).ok()))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().ok().flatten().map(|piece| piece.0))
            .collect()
    });
    let mut whole = Entities {
        accounts: Vec::new(),
        domains: Vec::new(),
        rest: toml::Table::new(),
    };
    for piece in read {
        let piece = piece?;
        whole.accounts.extend(piece.accounts);
        whole.domains.extend(piece.domains);
        for (key, value) in piece.rest {
            if whole.rest.insert(key, value).is_some() {
                return None;
            }
        }
    }
    Some(whole)
}

/// One piece of the text as [`entities`] reads it.
struct Piece<A, D>(Entities<A, D>);

impl<'de, A, D> serde::Deserialize<'de> for Piece<A, D>
where
    A: serde::de::DeserializeOwned,
    D: serde::de::DeserializeOwned,
{
    fn deserialize<De: serde::Deserializer<'de>>(deserializer: De) -> Result<Self, De::Error> {
        struct Visit<A, D>(std::marker::PhantomData<(A, D)>);
        impl<'de, A, D> serde::de::Visitor<'de> for Visit<A, D>
        where
            A: serde::de::DeserializeOwned,
            D: serde::de::DeserializeOwned,
        {
            type Value = Piece<A, D>;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a configuration table")
            }

            fn visit_map<M: serde::de::MapAccess<'de>>(
                self,
                mut map: M,
            ) -> Result<Self::Value, M::Error> {
                let mut piece = Entities {
                    accounts: Vec::new(),
                    domains: Vec::new(),
                    rest: toml::Table::new(),
                };
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "account" => piece.accounts = map.next_value()?,
                        "custom_domain" => piece.domains = map.next_value()?,
                        _ => {
                            let value = map.next_value::<toml::Value>()?;
                            piece.rest.insert(key, value);
                        }
                    }
                }
                Ok(Piece(piece))
            }
        }
        deserializer.deserialize_map(Visit(std::marker::PhantomData))
    }
}

/// The text in one piece per core, each (but the first) starting at an `[[account]]` line.
fn split_at_accounts(text: &str) -> Vec<&str> {
    let starts: Vec<usize> = line_starts(text)
        .filter(|&at| {
            text[at..]
                .trim_start_matches([' ', '\t'])
                .starts_with("[[account]]")
        })
        .collect();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    if starts.len() < PARALLEL_FROM || cores < 2 {
        return vec![text];
    }
    let per_piece = starts.len().div_ceil(cores);
    let mut cuts: Vec<usize> = starts.iter().step_by(per_piece).skip(1).copied().collect();
    cuts.push(text.len());
    let mut pieces = Vec::with_capacity(cuts.len());
    let mut from = 0;
    for cut in cuts {
        pieces.push(&text[from..cut]);
        from = cut;
    }
    pieces
}

fn line_starts(text: &str) -> impl Iterator<Item = usize> + '_ {
    std::iter::once(0).chain(text.match_indices('\n').map(|(at, _)| at + 1))
}

/// The pieces' tables as one, or `None` when they do not join as a whole-file parse would.
fn join(parsed: Vec<Result<toml::Table, toml::de::Error>>) -> Option<toml::Table> {
    let mut tables = parsed.into_iter();
    let mut whole = tables.next()?.ok()?;
    for table in tables {
        for (key, value) in table.ok()? {
            match (whole.get_mut(&key), value) {
                (None, value) => {
                    whole.insert(key, value);
                }
                (Some(toml::Value::Array(items)), toml::Value::Array(more))
                    if APPENDED.contains(&key.as_str()) =>
                {
                    items.extend(more);
                }
                _ => return None,
            }
        }
    }
    Some(whole)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(accounts: usize, tail: &str) -> String {
        let mut text = String::from("[server]\nlisten = \"127.0.0.1:1\"\n");
        for i in 0..accounts {
            text.push_str(&format!(
                "[[account]]\nid = \"t{i}\"\n  [[account.endpoint]]\n  identifier = \"e\"\n"
            ));
            if i % 1000 == 0 {
                text.push_str(&format!("[[custom_domain]]\nhost = \"h{i}.test\"\n"));
            }
        }
        text.push_str(tail);
        text
    }

    #[test]
    fn pieces_join_into_the_whole_files_table() {
        for tail in ["", "[delivery]\nuse_best_format = false\n"] {
            let text = file(PARALLEL_FROM * 2 + 7, tail);
            assert!(split_at_accounts(&text).len() > 1 || num_cores() < 2);
            let whole: toml::Table = text.parse().unwrap();
            assert_eq!(parse(&text).unwrap(), whole);
        }
    }

    #[test]
    fn what_does_not_join_is_parsed_whole_with_tomls_own_errors() {
        // The same table twice (in two pieces): toml's duplicate-key error, not a merge.
        let text = file(PARALLEL_FROM * 2, "[server]\nlisten = \"127.0.0.1:2\"\n");
        let expected = text.parse::<toml::Table>().unwrap_err().to_string();
        assert_eq!(parse(&text).unwrap_err().to_string(), expected);
        // An `[[account]]` line inside a multi-line string is no cut.
        let mut text = file(PARALLEL_FROM * 2, "");
        let at = split_at_accounts(&text)[0].len();
        text.insert_str(at, "description = \"\"\"\n");
        let close = text[at..].find("id =").unwrap() + at;
        text.insert_str(close, "\"\"\"\n");
        let whole = text.parse::<toml::Table>();
        assert_eq!(
            parse(&text).map_err(|e| e.to_string()),
            whole.map_err(|e| e.to_string())
        );
    }

    #[test]
    fn the_settings_alone_are_the_whole_files_settings() {
        let text = format!(
            "{}\n[limits]\nmax_frames = 9\n[[custom_domain]]\nhost = \"a.test\"\n\
             [storage]\ndata_dir = \"x\"\n",
            file(30, "[delivery]\nuse_best_format = false\n")
        );
        let settings = settings_only(&text).expect("told apart");
        assert_eq!(
            settings.lines().count(),
            text.lines().count(),
            "line numbers kept"
        );
        let mut whole: toml::Table = text.parse().unwrap();
        whole.remove("account");
        whole.remove("custom_domain");
        assert_eq!(settings.parse::<toml::Table>().unwrap(), whole);
        for unsure in [
            "description = \"\"\"\n[server]\n\"\"\"\n",
            "[\"account\"]\nid = \"x\"\n",
            "account = [{ id = \"x\" }]\n",
            "custom_domain.host = \"x\"\n",
        ] {
            assert_eq!(settings_only(unsure), None, "{unsure}");
        }
    }

    #[test]
    fn entities_read_straight_are_the_whole_files() {
        let text = file(
            PARALLEL_FROM * 2 + 7,
            "[delivery]\nuse_best_format = false\n",
        );
        let mut whole: toml::Table = text.parse().unwrap();
        let read = entities::<toml::Table, toml::Table>(&text).expect("read");
        let as_tables = |value: Option<toml::Value>| -> Vec<toml::Table> {
            value
                .and_then(|v| v.as_array().cloned())
                .unwrap_or_default()
                .into_iter()
                .map(|v| v.as_table().unwrap().clone())
                .collect()
        };
        assert_eq!(read.accounts, as_tables(whole.remove("account")));
        assert_eq!(read.domains, as_tables(whole.remove("custom_domain")));
        assert_eq!(
            read.rest, whole,
            "the settings, from whichever piece holds them"
        );
        // A mistake anywhere: not read this way (the ordinary read names it).
        let broken = text.replacen("identifier = \"e\"", "identifier = ", 1);
        assert!(entities::<toml::Table, toml::Table>(&broken).is_none());
        let twice = format!("{text}[delivery]\nauto_avif = true\n");
        assert!(entities::<toml::Table, toml::Table>(&twice).is_none());
    }

    fn num_cores() -> usize {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    }
}
