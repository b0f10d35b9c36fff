//! Links the pages build: percent-encoded query values and the "back"
//! targets followed after a login or a language change.

/// Percent-encodes a query value.
pub fn urlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Only same-site relative paths are followed after a login or a language
/// change (no open redirects).
pub fn safe_back(back: Option<&str>) -> String {
    match back {
        // A control character (CR/LF, DEL...) would make an invalid
        // Location header: refused like any off-site target.
        Some(b)
            if b.starts_with("/app")
                && !b.starts_with("//")
                && !b.contains('\\')
                && !b.chars().any(char::is_control) =>
        {
            b.to_owned()
        }
        _ => "/app".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn back_links_stay_on_site() {
        assert_eq!(safe_back(Some("/app/feed?x=1")), "/app/feed?x=1");
        assert_eq!(safe_back(Some("https://evil.example")), "/app");
        assert_eq!(safe_back(Some("//evil.example")), "/app");
        assert_eq!(safe_back(Some("/app\\@evil")), "/app");
        assert_eq!(safe_back(Some("/app/feed\r\nX: y")), "/app");
        assert_eq!(safe_back(Some("/app/feed\u{7f}")), "/app");
        assert_eq!(safe_back(None), "/app");
    }
}
