//! Keeps the web crate's modules layered (see the `//!` doc of `lib.rs`):
//! reads every file under `src/`, collects the paths from one file to
//! another (`use crate::...`, `super::...`, `self::...`, `crate::x::y` in
//! code, and child modules named directly), and fails on a cycle or on a
//! page module that reaches another page or the router.
//!
//! A small hand-written scanner rather than a Rust parser: it only has to
//! see paths, and comments and string literals are skipped so that text in
//! them (i18n.rs is mostly strings) cannot invent an edge.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// A module as a path of names: `[]` is `lib.rs`, `["pages", "feed"]` is
/// `pages/feed.rs`.
type Module = Vec<String>;

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    PathSep,
    Open,
    Close,
    Comma,
    Semi,
    Star,
    Other,
}

/// Splits source into the tokens path analysis needs; comments, strings and
/// character literals disappear, lifetimes and other punctuation become
/// `Other`.
fn tokens(src: &str) -> Vec<Tok> {
    let b = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'/' && b.get(i + 1) == Some(&b'/') {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if c == b'/' && b.get(i + 1) == Some(&b'*') {
            // Block comments nest in Rust.
            let mut depth = 0;
            while i < b.len() {
                if b[i] == b'/' && b.get(i + 1) == Some(&b'*') {
                    depth += 1;
                    i += 2;
                } else if b[i] == b'*' && b.get(i + 1) == Some(&b'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
        } else if c == b'r'
            && matches!(b.get(i + 1), Some(b'"' | b'#'))
            && raw_string_end(b, i).is_some()
        {
            i = raw_string_end(b, i).unwrap_or(b.len());
            out.push(Tok::Other);
        } else if c == b'"' {
            i += 1;
            while i < b.len() && b[i] != b'"' {
                i += if b[i] == b'\\' { 2 } else { 1 };
            }
            i += 1;
            out.push(Tok::Other);
        } else if c == b'\'' {
            // A character literal ('x', '\n', '"') or a lifetime ('a).
            if b.get(i + 1) == Some(&b'\\') {
                // Skip the escaped character itself: it may be a quote.
                i += 3;
                while i < b.len() && b[i] != b'\'' {
                    i += 1;
                }
                i += 1;
            } else {
                let ch_len = src[i + 1..].chars().next().map_or(1, char::len_utf8);
                if b.get(i + 1 + ch_len) == Some(&b'\'') {
                    i += 2 + ch_len;
                } else {
                    i += 1;
                }
            }
            out.push(Tok::Other);
        } else if c.is_ascii_alphabetic() || c == b'_' {
            let start = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                i += 1;
            }
            // Byte strings and raw identifiers keep working: b"..", r#ident.
            out.push(Tok::Ident(src[start..i].to_owned()));
        } else if c == b':' && b.get(i + 1) == Some(&b':') {
            out.push(Tok::PathSep);
            i += 2;
        } else {
            out.push(match c {
                b'{' => Tok::Open,
                b'}' => Tok::Close,
                b',' => Tok::Comma,
                b';' => Tok::Semi,
                b'*' => Tok::Star,
                _ if c.is_ascii_whitespace() => {
                    i += 1;
                    continue;
                }
                _ => Tok::Other,
            });
            i += 1;
        }
    }
    out
}

/// Where a raw string starting at `i` (`r"..."`, `r#"..."#`) ends, if it is one.
fn raw_string_end(b: &[u8], i: usize) -> Option<usize> {
    let mut j = i + 1;
    let mut hashes = 0;
    while b.get(j) == Some(&b'#') {
        hashes += 1;
        j += 1;
    }
    if b.get(j) != Some(&b'"') {
        return None;
    }
    j += 1;
    while j < b.len() {
        if b[j] == b'"'
            && b[j + 1..]
                .iter()
                .take(hashes)
                .filter(|&&h| h == b'#')
                .count()
                == hashes
        {
            return Some(j + 1 + hashes);
        }
        j += 1;
    }
    Some(b.len())
}

/// Expands a `use` tree (`a::{b, c::d as e, f::*}`) into its paths.
fn use_paths(toks: &[Tok], i: &mut usize, prefix: &[String], out: &mut Vec<Vec<String>>) {
    let mut path = prefix.to_vec();
    while *i < toks.len() {
        match &toks[*i] {
            Tok::Ident(s) if s == "as" => {
                // The alias names nothing in the crate.
                *i += 2;
            }
            Tok::Ident(s) => {
                path.push(s.clone());
                *i += 1;
            }
            Tok::PathSep | Tok::Star => *i += 1,
            Tok::Open => {
                *i += 1;
                loop {
                    use_paths(toks, i, &path, out);
                    match toks.get(*i) {
                        Some(Tok::Comma) => *i += 1,
                        Some(Tok::Close) => {
                            *i += 1;
                            break;
                        }
                        _ => break,
                    }
                }
                return;
            }
            Tok::Comma | Tok::Close | Tok::Semi | Tok::Other => break,
        }
    }
    if path.len() > prefix.len() {
        out.push(path);
    }
}

struct Crate {
    /// Module → its file (relative to `src/`), for messages.
    files: BTreeMap<Module, String>,
}

impl Crate {
    fn load(src: &Path) -> (Self, BTreeMap<Module, String>) {
        let mut files = BTreeMap::new();
        let mut texts = BTreeMap::new();
        let mut stack = vec![src.to_path_buf()];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).expect("src/ is readable") {
                let path: PathBuf = entry.expect("directory entry").path();
                if path.is_dir() {
                    stack.push(path);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    let rel = path.strip_prefix(src).expect("under src/");
                    let mut module: Module = rel
                        .with_extension("")
                        .components()
                        .map(|c| c.as_os_str().to_string_lossy().into_owned())
                        .collect();
                    if matches!(module.last().map(String::as_str), Some("mod" | "lib")) {
                        module.pop();
                    }
                    let rel = rel.to_string_lossy().replace('\\', "/");
                    texts.insert(
                        module.clone(),
                        std::fs::read_to_string(&path).expect("readable"),
                    );
                    files.insert(module, rel);
                }
            }
        }
        (Self { files }, texts)
    }

    fn children(&self, scope: &[String]) -> BTreeSet<&str> {
        self.files
            .keys()
            .filter(|m| m.len() == scope.len() + 1 && m.starts_with(scope))
            .map(|m| m[scope.len()].as_str())
            .collect()
    }

    /// The file module a path points into, if it is a path in this crate.
    /// `scope` is the module the path is written in (inline `mod` blocks
    /// included, so `super::` in a `mod tests` means the file itself).
    fn resolve(&self, scope: &[String], path: &[String]) -> Option<Module> {
        let first = path.first()?.as_str();
        let (mut base, rest): (Module, &[String]) = match first {
            "crate" => (Vec::new(), &path[1..]),
            "super" | "self" => {
                let mut base = scope.to_vec();
                let mut k = 0;
                while k < path.len() && matches!(path[k].as_str(), "super" | "self") {
                    if path[k] == "super" {
                        base.pop();
                    }
                    k += 1;
                }
                (base, &path[k..])
            }
            _ if self.children(scope).contains(first) => (scope.to_vec(), path),
            _ => return None,
        };
        let mut best = self.files.contains_key(&base).then(|| base.clone());
        for seg in rest {
            base.push(seg.clone());
            if self.files.contains_key(&base) {
                best = Some(base.clone());
            }
        }
        best
    }

    /// Every file's outgoing edges to other files.
    fn graph(&self, texts: &BTreeMap<Module, String>) -> BTreeMap<Module, BTreeSet<Module>> {
        let mut graph = BTreeMap::new();
        for (file, text) in texts {
            let toks = tokens(text);
            let mut edges = BTreeSet::new();
            // Inline modules: (name, brace depth at which they close).
            let mut scope = file.clone();
            let mut inline: Vec<usize> = Vec::new();
            let mut depth = 0usize;
            let mut i = 0;
            let mut add = |scope: &[String], path: &[String]| {
                if let Some(target) = self.resolve(scope, path)
                    && &target != file
                {
                    edges.insert(target);
                }
            };
            while i < toks.len() {
                match &toks[i] {
                    Tok::Open => depth += 1,
                    Tok::Close => {
                        depth = depth.saturating_sub(1);
                        if inline.last() == Some(&depth) {
                            inline.pop();
                            scope.pop();
                        }
                    }
                    Tok::Ident(kw) if kw == "mod" => {
                        if let (Some(Tok::Ident(name)), Some(Tok::Open)) =
                            (toks.get(i + 1), toks.get(i + 2))
                        {
                            scope.push(name.clone());
                            inline.push(depth);
                            depth += 1;
                            i += 3;
                            continue;
                        }
                    }
                    Tok::Ident(kw) if kw == "use" => {
                        i += 1;
                        let mut paths = Vec::new();
                        use_paths(&toks, &mut i, &[], &mut paths);
                        for p in paths {
                            add(&scope, &p);
                        }
                        continue;
                    }
                    Tok::Ident(first)
                        if toks.get(i + 1) == Some(&Tok::PathSep)
                            && !matches!(
                                i.checked_sub(1).map(|j| &toks[j]),
                                Some(Tok::PathSep)
                            ) =>
                    {
                        let mut path = vec![first.clone()];
                        let mut j = i + 1;
                        while toks.get(j) == Some(&Tok::PathSep) {
                            match toks.get(j + 1) {
                                Some(Tok::Ident(s)) => path.push(s.clone()),
                                _ => break,
                            }
                            j += 2;
                        }
                        add(&scope, &path);
                        i = j;
                        continue;
                    }
                    _ => {}
                }
                i += 1;
            }
            graph.insert(file.clone(), edges);
        }
        graph
    }
}

/// Strongly connected components with more than one member (Tarjan).
fn cycles(graph: &BTreeMap<Module, BTreeSet<Module>>) -> Vec<Vec<Module>> {
    struct State<'a> {
        graph: &'a BTreeMap<Module, BTreeSet<Module>>,
        index: BTreeMap<&'a Module, usize>,
        low: BTreeMap<&'a Module, usize>,
        stack: Vec<&'a Module>,
        next: usize,
        found: Vec<Vec<Module>>,
    }
    fn visit<'a>(s: &mut State<'a>, v: &'a Module) {
        s.index.insert(v, s.next);
        s.low.insert(v, s.next);
        s.next += 1;
        s.stack.push(v);
        for w in s.graph.get(v).into_iter().flatten() {
            if !s.index.contains_key(w) {
                visit(s, w);
                let lw = s.low[w];
                let lv = s.low.get_mut(v).expect("visited");
                *lv = (*lv).min(lw);
            } else if s.stack.contains(&w) {
                let iw = s.index[w];
                let lv = s.low.get_mut(v).expect("visited");
                *lv = (*lv).min(iw);
            }
        }
        if s.low[v] == s.index[v] {
            let mut comp = Vec::new();
            while let Some(w) = s.stack.pop() {
                comp.push(w.clone());
                if w == v {
                    break;
                }
            }
            if comp.len() > 1 {
                comp.sort();
                s.found.push(comp);
            }
        }
    }
    let mut s = State {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        next: 0,
        found: Vec::new(),
    };
    for v in graph.keys() {
        if !s.index.contains_key(v) {
            visit(&mut s, v);
        }
    }
    s.found
}

fn web_crate() -> (Crate, BTreeMap<Module, BTreeSet<Module>>) {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let (krate, texts) = Crate::load(&src);
    let graph = krate.graph(&texts);
    (krate, graph)
}

fn m(path: &str) -> Module {
    path.split('/')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_web_modules_have_no_import_cycle() {
    let (krate, graph) = web_crate();
    // The scanner must see the edges that exist, or "no cycle" proves nothing.
    for (from, to) in [
        ("", "pages"),
        ("pages", "pages/feed"),
        ("pages/feed", "view"),
        ("pages/feed", "state"),
        ("error", "links"),
    ] {
        assert!(
            graph[&m(from)].contains(&m(to)),
            "the scanner missed {from:?} -> {to:?}: {graph:?}"
        );
    }
    let found = cycles(&graph);
    let named: Vec<Vec<&str>> = found
        .iter()
        .map(|c| c.iter().map(|m| krate.files[m].as_str()).collect())
        .collect();
    assert!(
        named.is_empty(),
        "import cycles among these files (see the layering in lib.rs's doc): {named:?}"
    );
}

#[test]
fn pages_use_shared_modules_and_only_the_router_uses_pages() {
    let (krate, graph) = web_crate();
    let router = m("pages");
    let is_page = |m: &Module| m.len() == 2 && m[0] == "pages";
    let mut wrong = Vec::new();
    for (from, targets) in &graph {
        for to in targets {
            let allowed = if is_page(from) {
                // What two pages share lives outside pages/.
                !is_page(to) && to != &router
            } else if is_page(to) || to == &router {
                from == &router || from.is_empty()
            } else {
                true
            };
            if !allowed {
                wrong.push(format!("{} -> {}", krate.files[from], krate.files[to]));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "page modules must not depend on each other or on the router: {wrong:?}"
    );
}

#[test]
fn the_scanner_reads_paths_and_not_text() {
    let toks = tokens(
        r##"use crate::a::{b::{self, C}, d as e}; // crate::zz::y
        let s = "crate::zz::x"; let r = r#"super::zz"#; let q = '"'; let p = '\''; fn f<'a>() { super::g::h(); }"##,
    );
    let mut i = 1;
    let mut paths = Vec::new();
    use_paths(&toks, &mut i, &[], &mut paths);
    let want: Vec<Vec<String>> = vec![m("crate/a/b/self"), m("crate/a/b/C"), m("crate/a/d")];
    assert_eq!(paths, want);
    let idents: Vec<&str> = toks
        .iter()
        .filter_map(|t| {
            if let Tok::Ident(s) = t {
                Some(s.as_str())
            } else {
                None
            }
        })
        .collect();
    assert!(
        !idents.contains(&"zz"),
        "comments and strings were read as code: {idents:?}"
    );
    assert!(idents.ends_with(&["super", "g", "h"]), "{idents:?}");
}

#[test]
fn a_cycle_is_found() {
    let graph: BTreeMap<Module, BTreeSet<Module>> = [
        (m(""), [m("a")].into()),
        (m("a"), [m("b")].into()),
        (m("b"), [m("a"), m("c")].into()),
        (m("c"), BTreeSet::new()),
    ]
    .into();
    assert_eq!(cycles(&graph), vec![vec![m("a"), m("b")]]);
    let acyclic: BTreeMap<Module, BTreeSet<Module>> =
        [(m("a"), [m("c")].into()), (m("c"), BTreeSet::new())].into();
    assert!(cycles(&acyclic).is_empty());
}
