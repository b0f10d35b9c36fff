//! Validated free-text values: a value that exists is valid.
//!
//! Every free text a person sends (report content, titles, addresses,
//! answers, reasons, names, usernames, search words) passes through here,
//! so the same rules hold whatever the storage engine: in particular a NUL
//! character is refused, because PostgreSQL cannot store it in a text
//! column (SQLite can), and no person types one.

use thiserror::Error;

#[derive(Debug, Error, PartialEq, Eq)]
pub enum TextError {
    #[error("{field} must not be empty")]
    Empty { field: &'static str },
    #[error("{field} must be at most {max} characters")]
    TooLong { field: &'static str, max: usize },
    #[error("{field} must not contain a NUL character")]
    Nul { field: &'static str },
}

/// Refuses a NUL character anywhere in `raw`.
pub fn no_nul(field: &'static str, raw: &str) -> Result<(), TextError> {
    if raw.contains('\0') {
        return Err(TextError::Nul { field });
    }
    Ok(())
}

/// Trims `raw` and checks it is non-empty, at most `max` characters and
/// free of NUL.
pub fn bounded(field: &'static str, raw: &str, max: usize) -> Result<String, TextError> {
    no_nul(field, raw)?;
    let t = raw.trim();
    if t.is_empty() {
        return Err(TextError::Empty { field });
    }
    if t.chars().count() > max {
        return Err(TextError::TooLong { field, max });
    }
    Ok(t.to_owned())
}

/// A title derived from the content when the client gives none (seed 1 has
/// no titles): the first line, cut at a word boundary near 80 characters.
pub fn derive_title(content: &str) -> String {
    let first = content
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("");
    if first.chars().count() <= 80 {
        return first.to_owned();
    }
    let cut: String = first.chars().take(80).collect();
    match cut.rfind(' ') {
        Some(i) if i > 40 => format!("{}…", &cut[..i]),
        _ => format!("{cut}…"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_trims_and_limits() {
        assert_eq!(bounded("x", "  a b ", 5).unwrap(), "a b");
        assert_eq!(bounded("x", "   ", 5), Err(TextError::Empty { field: "x" }));
        assert_eq!(
            bounded("x", "abcdef", 5),
            Err(TextError::TooLong { field: "x", max: 5 })
        );
        // characters, not bytes
        assert!(bounded("x", "ééééé", 5).is_ok());
    }

    #[test]
    fn nul_is_refused_wherever_it_is() {
        for raw in ["a\0b", "\0", "  x\0", "\0  "] {
            assert_eq!(
                bounded("title", raw, 50),
                Err(TextError::Nul { field: "title" }),
                "{raw:?}"
            );
        }
        assert_eq!(no_nul("q", "jalan"), Ok(()));
        assert_eq!(no_nul("q", "ja\0lan"), Err(TextError::Nul { field: "q" }));
    }

    #[test]
    fn a_first_line_of_80_characters_is_the_title_and_a_longer_one_is_cut_at_a_word() {
        let eighty = "a".repeat(80);
        assert_eq!(derive_title(&eighty), eighty);
        // Cut at the last space within the first 80 characters.
        let words = format!("{} {}", "a".repeat(50), "b".repeat(40));
        assert_eq!(derive_title(&words), format!("{}…", "a".repeat(50)));
        // A space too early (at 40 or before) would leave too short a title:
        // cut at 80 characters instead.
        let early = format!("{} {}", "a".repeat(40), "b".repeat(60));
        assert_eq!(
            derive_title(&early),
            format!("{} {}…", "a".repeat(40), "b".repeat(39))
        );
        assert_eq!(derive_title(" \n \n"), "");
    }

    #[test]
    fn exactly_max_characters_are_allowed() {
        assert_eq!(bounded("x", "abcde", 5).unwrap(), "abcde");
    }

    #[test]
    fn titles_come_from_the_first_line() {
        assert_eq!(derive_title("\n  Jalan rusak \nsecond"), "Jalan rusak");
        let long = "kata ".repeat(40);
        let t = derive_title(&long);
        assert!(t.chars().count() <= 81 && t.ends_with('…'));
    }
}
