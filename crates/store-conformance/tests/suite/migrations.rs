//! Migrations pair up: each engine keeps its migrations in one folder per
//! context with the same folder names, and a schema change is one pair of
//! files with the same name (so the same version) on both engines. The one
//! exception is SQLite's `eventlog` (the embedded event bus), which Redis
//! Streams replaces on PostgreSQL deployments.

use lapor_store_conformance::harness::Engine;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Migration folders only one engine has, and why.
pub const ENGINE_ONLY: [(Engine, &str); 1] = [(Engine::Sqlite, "eventlog")];

/// The `migrations` folder of an engine's store crate.
pub fn folder(engine: Engine) -> PathBuf {
    let krate = match engine {
        Engine::Sqlite => "store-sqlite",
        Engine::Postgres => "store-postgres",
    };
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(krate)
        .join("migrations")
}

/// Each context folder with its migration file names, sorted.
pub fn migrations(engine: Engine) -> BTreeMap<String, Vec<String>> {
    let mut out = BTreeMap::new();
    let root = folder(engine);
    for dir in std::fs::read_dir(&root).unwrap_or_else(|e| panic!("{}: {e}", root.display())) {
        let dir = dir.unwrap().path();
        if !dir.is_dir() {
            continue;
        }
        let mut files: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|f| f.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|f| f.ends_with(".sql"))
            .collect();
        files.sort();
        let context = dir.file_name().unwrap().to_string_lossy().into_owned();
        out.insert(context, files);
    }
    out
}

/// The version of a migration file (`3003_listing_counts.sql` -> 3003).
pub fn version(file: &str) -> i64 {
    file.split_once('_')
        .and_then(|(v, _)| v.parse().ok())
        .unwrap_or_else(|| panic!("{file}: migrations are named <version>_<what>.sql"))
}

/// The versions of one context's migrations on one engine, ascending.
pub fn versions(engine: Engine, context: &str) -> Vec<i64> {
    let mut v: Vec<i64> = migrations(engine)
        .get(context)
        .unwrap_or_else(|| panic!("no {context} migrations for {engine:?}"))
        .iter()
        .map(|f| version(f))
        .collect();
    v.sort();
    v
}

/// Every way the two engines' migrations fail to pair up (empty when they
/// do): a context folder on one engine only, a file on one engine only, a
/// version used twice, a file that does not start with a `-- <version>:`
/// comment saying what it changes and why.
pub fn pairing_problems() -> Vec<String> {
    let sqlite = migrations(Engine::Sqlite);
    let postgres = migrations(Engine::Postgres);
    let mut problems = vec![];
    let contexts: std::collections::BTreeSet<&String> =
        sqlite.keys().chain(postgres.keys()).collect();
    for context in contexts {
        let (s, p) = (sqlite.get(context), postgres.get(context));
        match (s, p) {
            (Some(s), Some(p)) => {
                for f in s.iter().filter(|f| !p.contains(f)) {
                    problems.push(format!("{context}/{f} exists only on SQLite"));
                }
                for f in p.iter().filter(|f| !s.contains(f)) {
                    problems.push(format!("{context}/{f} exists only on PostgreSQL"));
                }
            }
            (Some(_), None) if ENGINE_ONLY.contains(&(Engine::Sqlite, context.as_str())) => {}
            (None, Some(_)) if ENGINE_ONLY.contains(&(Engine::Postgres, context.as_str())) => {}
            (Some(_), None) => problems.push(format!("migrations/{context} exists only on SQLite")),
            (None, Some(_)) => {
                problems.push(format!("migrations/{context} exists only on PostgreSQL"))
            }
            (None, None) => unreachable!(),
        }
    }
    for (engine, all) in [(Engine::Sqlite, &sqlite), (Engine::Postgres, &postgres)] {
        // Versions are unique across contexts: contexts sharing a database
        // share its migration table.
        let mut seen = BTreeMap::new();
        for (context, files) in all {
            for f in files {
                let v = version(f);
                if let Some(other) = seen.insert(v, format!("{context}/{f}")) {
                    problems.push(format!(
                        "{engine:?}: version {v} in {other} and {context}/{f}"
                    ));
                }
                let path = folder(engine).join(context).join(f);
                let text = std::fs::read_to_string(&path).unwrap();
                if !text.starts_with(&format!("-- {v}:")) {
                    problems.push(format!(
                        "{}: start with a `-- {v}:` comment saying what it changes and why",
                        path.display()
                    ));
                }
            }
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_come_from_file_names() {
        assert_eq!(version("3003_listing_counts.sql"), 3003);
        assert!(std::panic::catch_unwind(|| version("listing_counts.sql")).is_err());
    }
}
