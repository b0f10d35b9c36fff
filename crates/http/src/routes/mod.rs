//! One module per resource, each with its `router()`.

pub mod admin;
pub mod analytics;
pub mod auth;
pub mod cases;
pub mod health;
pub mod notifications;
pub mod photos;
pub mod reports;
pub mod sla;

use crate::error::ApiError;
use lapor_app::ports::{Cursor, Paging};
use lapor_app::{AppError, ErrorCode};
use lapor_domain::lifecycle::Status;
use serde::Deserialize;
use utoipa::IntoParams;

pub const MAX_PER_PAGE: i64 = 100;

/// Paging and filters shared by listings. `page`/`per_page` (seed 2) give
/// offset pages with a total; `cursor`/`limit` give keyset pages that stay
/// fast however deep they go.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// 1-based page number (offset paging).
    pub page: Option<i64>,
    /// Page size for offset paging: default 20, at most 100.
    pub per_page: Option<i64>,
    /// Opaque cursor from `meta.next_cursor` (keyset paging).
    pub cursor: Option<String>,
    /// Page size for keyset paging: default 50, at most 100.
    pub limit: Option<i64>,
    /// Category slug, case-insensitive.
    pub category: Option<String>,
    /// RECEIVED, IN_PROGRESS, RESOLVED, REJECTED (or seed 2's lower-case names).
    pub status: Option<String>,
    /// `newest` (default) or `top` (most upvoted).
    pub sort: Option<String>,
    /// Words to find in the title or text (at most 200 characters; `GET
    /// /reports` only).
    pub q: Option<String>,
}

impl ListParams {
    pub fn status(&self) -> Result<Option<Status>, ApiError> {
        match self
            .status
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            Some(s) => s
                .parse()
                .map(Some)
                .map_err(|e: lapor_domain::lifecycle::BadStatus| AppError::from(e).into()),
            None => Ok(None),
        }
    }

    pub fn sort(&self) -> Result<lapor_app::ports::FeedSort, ApiError> {
        match self.sort.as_deref().map(|s| s.trim().to_ascii_lowercase()) {
            None => Ok(Default::default()),
            Some(s) if s.is_empty() || s == "newest" => Ok(lapor_app::ports::FeedSort::Newest),
            Some(s) if s == "top" || s == "upvotes" => Ok(lapor_app::ports::FeedSort::MostUpvoted),
            Some(s) => Err(ApiError::invalid(
                ErrorCode::SortInvalid,
                format!("invalid sort '{s}': use newest or top"),
            )),
        }
    }

    /// Offset paging if `page`/`per_page` is given (or `offset_default`),
    /// keyset paging otherwise. The most-upvoted order changes as votes come
    /// in, so it always pages by offset (`limit` then sets the page size).
    pub fn paging(&self, offset_default: bool) -> Result<Paging, ApiError> {
        let top = self.sort()? == lapor_app::ports::FeedSort::MostUpvoted;
        if top && self.cursor.is_some() {
            return Err(ApiError::invalid(
                ErrorCode::CursorWithSort,
                "sort=top pages with page/per_page, not cursor",
            ));
        }
        let keyset = !top && (self.cursor.is_some() || self.limit.is_some());
        if (self.page.is_some() || self.per_page.is_some() || offset_default || top) && !keyset {
            let page = self.page.unwrap_or(1);
            if page < 1 {
                return Err(ApiError::invalid(
                    ErrorCode::PageOutOfRange,
                    "page must be 1 or more",
                ));
            }
            let per_page = self.per_page.or(self.limit).unwrap_or(20);
            if per_page < 1 {
                return Err(ApiError::invalid(
                    ErrorCode::PageSizeInvalid,
                    "per_page must be 1 or more",
                ));
            }
            if page > 1_000_000 {
                return Err(ApiError::invalid(
                    ErrorCode::PageOutOfRange,
                    "page is too large; use cursor paging",
                ));
            }
            return Ok(Paging::Offset {
                page,
                per_page: per_page.min(MAX_PER_PAGE),
            });
        }
        Ok(Paging::Keyset {
            after: self.cursor()?,
            limit: limit(self.limit)?,
        })
    }

    pub fn cursor(&self) -> Result<Option<Cursor>, ApiError> {
        match self.cursor.as_deref().filter(|c| !c.is_empty()) {
            Some(c) => Cursor::decode(c)
                .map(Some)
                .ok_or_else(|| ApiError::invalid(ErrorCode::CursorInvalid, "invalid cursor")),
            None => Ok(None),
        }
    }
}

pub fn limit(l: Option<i64>) -> Result<i64, ApiError> {
    match l {
        Some(l) if l < 1 => Err(ApiError::invalid(
            ErrorCode::PageSizeInvalid,
            "limit must be 1 or more",
        )),
        Some(l) => Ok(l.min(MAX_PER_PAGE)),
        None => Ok(50),
    }
}
