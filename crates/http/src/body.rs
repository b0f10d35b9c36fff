//! Typed response envelopes for the hot read paths. They serialize the views
//! straight into the response, where `json!` first built a
//! `serde_json::Value` tree of every row (map inserts and string copies for
//! each field) and then serialized that.

use lapor_app::ports::Paging;
use lapor_app::views::Listing;
use serde::Serialize;
use utoipa::ToSchema;

/// `{success: true, data}`.
#[derive(Serialize, ToSchema)]
pub struct Data<T> {
    pub success: bool,
    pub data: T,
}

impl<T> Data<T> {
    pub fn ok(data: T) -> Self {
        Self {
            success: true,
            data,
        }
    }
}

/// The same envelope as [`Data`] with `data` first: the answers that were
/// built with `json!` (which sorts keys) keep their bytes. Documented as
/// `Data`.
#[derive(Serialize, ToSchema)]
#[schema(as = Data<T>)]
pub struct SortedData<T> {
    pub data: T,
    pub success: bool,
}

impl<T> SortedData<T> {
    pub fn ok(data: T) -> Self {
        Self {
            data,
            success: true,
        }
    }
}

/// `{success: true, data: [...], meta}` for a listing.
#[derive(Serialize, ToSchema)]
pub struct Page<T> {
    pub success: bool,
    pub data: Vec<T>,
    pub meta: PageMeta,
}

/// Offset paging reports the total and the page; keyset paging the cursor
/// of the next page.
#[derive(Clone, Serialize, ToSchema)]
#[serde(untagged)]
pub enum PageMeta {
    Offset {
        total: Option<i64>,
        page: i64,
        per_page: i64,
    },
    Keyset {
        limit: i64,
        next_cursor: Option<String>,
    },
}

impl<T> Page<T> {
    pub fn new(l: Listing<T>, paging: Paging) -> Self {
        let meta = match paging {
            Paging::Offset { page, per_page } => PageMeta::Offset {
                total: l.total,
                page,
                per_page,
            },
            Paging::Keyset { limit, .. } => PageMeta::Keyset {
                limit,
                next_cursor: l.next_cursor,
            },
        };
        Self {
            success: true,
            data: l.items,
            meta,
        }
    }

    /// The same page with each item turned into `U` (its wire shape).
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            success: self.success,
            data: self.data.into_iter().map(f).collect(),
            meta: self.meta,
        }
    }

    /// The same page showing each item as `U`, a wire shape borrowing it.
    pub fn map_ref<'a, U>(&'a self, f: impl FnMut(&'a T) -> U) -> Page<U> {
        Page {
            success: self.success,
            data: self.data.iter().map(f).collect(),
            meta: self.meta.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn envelopes_keep_the_seed_shape() {
        let l = Listing {
            items: vec![1, 2],
            total: Some(7),
            next_cursor: None,
        };
        let v = serde_json::to_value(Page::new(
            l,
            Paging::Offset {
                page: 2,
                per_page: 2,
            },
        ))
        .unwrap();
        assert_eq!(
            v,
            json!({"success": true, "data": [1, 2], "meta": {"total": 7, "page": 2, "per_page": 2}})
        );
        let l = Listing {
            items: vec!["a"],
            total: None,
            next_cursor: Some("c1".to_owned()),
        };
        let v = serde_json::to_value(Page::new(
            l,
            Paging::Keyset {
                after: None,
                limit: 1,
            },
        ))
        .unwrap();
        assert_eq!(
            v,
            json!({"success": true, "data": ["a"], "meta": {"limit": 1, "next_cursor": "c1"}})
        );
        assert_eq!(
            serde_json::to_value(Data::ok(5)).unwrap(),
            json!({"success": true, "data": 5})
        );
    }
}
