//! Parsing stream replies by hand, for both RESP2 (arrays) and RESP3 (maps),
//! so that an entry deleted from the stream (`[id, nil]` in a consumer's
//! history) is reported as such instead of failing the whole reply.

use redis::Value;
use std::collections::HashMap;

/// One stream entry as Redis returned it.
#[derive(Debug)]
pub(crate) struct RawEntry {
    pub id: String,
    /// `None` if the entry is still pending but no longer in the stream.
    pub fields: Option<HashMap<String, String>>,
}

pub(crate) fn text(v: &Value) -> Option<String> {
    match v {
        Value::BulkString(b) => String::from_utf8(b.clone()).ok(),
        Value::SimpleString(s) => Some(s.clone()),
        Value::VerbatimString { text, .. } => Some(text.clone()),
        Value::Int(i) => Some(i.to_string()),
        Value::Okay => Some("OK".to_owned()),
        _ => None,
    }
}

fn pairs(v: Value) -> Option<HashMap<String, String>> {
    let mut out = HashMap::new();
    match v {
        Value::Array(flat) => {
            for kv in flat.chunks(2) {
                if let [k, v] = kv {
                    out.insert(text(k)?, text(v)?);
                }
            }
        }
        Value::Map(kvs) => {
            for (k, v) in kvs {
                out.insert(text(&k)?, text(&v)?);
            }
        }
        _ => return None,
    }
    Some(out)
}

/// `[id, [field, value, ...]]`; `None` for a nil placeholder.
fn entry(v: Value) -> Option<RawEntry> {
    let Value::Array(mut items) = v else {
        return None;
    };
    if items.is_empty() {
        return None;
    }
    let id = text(&items[0])?;
    let fields = if items.len() > 1 {
        pairs(std::mem::take(&mut items[1]))
    } else {
        None
    };
    Some(RawEntry { id, fields })
}

/// A list of entries (XRANGE, XREVRANGE, the middle of XAUTOCLAIM).
pub(crate) fn entries(v: Value) -> Vec<RawEntry> {
    match v {
        Value::Array(items) => items.into_iter().filter_map(entry).collect(),
        _ => Vec::new(),
    }
}

/// An XREAD/XREADGROUP reply: nil, `[[key, entries], ...]` or `{key: entries}`.
pub(crate) fn read_reply(v: Value) -> Vec<RawEntry> {
    match v {
        Value::Array(streams) => streams
            .into_iter()
            .flat_map(|s| match s {
                Value::Array(mut kv) if kv.len() == 2 => entries(kv.pop().unwrap_or(Value::Nil)),
                _ => Vec::new(),
            })
            .collect(),
        Value::Map(streams) => streams.into_iter().flat_map(|(_, e)| entries(e)).collect(),
        _ => Vec::new(),
    }
}

/// An XAUTOCLAIM reply: `[next cursor, entries, deleted ids]`.
pub(crate) fn autoclaim(v: Value) -> Option<(String, Vec<RawEntry>)> {
    let Value::Array(mut items) = v else {
        return None;
    };
    if items.len() < 2 {
        return None;
    }
    let cursor = text(&items[0])?;
    let claimed = entries(std::mem::take(&mut items[1]));
    Some((cursor, claimed))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bulk(s: &str) -> Value {
        Value::BulkString(s.as_bytes().to_vec())
    }

    #[test]
    fn reads_resp2_and_resp3_replies_and_deleted_entries() {
        let e1 = Value::Array(vec![bulk("1-0"), Value::Array(vec![bulk("a"), bulk("b")])]);
        let gone = Value::Array(vec![bulk("2-0"), Value::Nil]);
        let resp2 = Value::Array(vec![Value::Array(vec![
            bulk("k"),
            Value::Array(vec![e1.clone(), gone.clone()]),
        ])]);
        let got = read_reply(resp2);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].id, "1-0");
        assert_eq!(got[0].fields.as_ref().unwrap()["a"], "b");
        assert!(got[1].fields.is_none());

        let resp3 = Value::Map(vec![(bulk("k"), Value::Array(vec![e1]))]);
        assert_eq!(read_reply(resp3).len(), 1);
        assert!(read_reply(Value::Nil).is_empty());

        let claim = Value::Array(vec![
            bulk("0-0"),
            Value::Array(vec![Value::Nil, gone]),
            Value::Array(vec![]),
        ]);
        let (cursor, claimed) = autoclaim(claim).unwrap();
        assert_eq!(cursor, "0-0");
        assert_eq!(claimed.len(), 1);
    }
}
