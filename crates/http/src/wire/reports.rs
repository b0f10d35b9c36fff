//! Reports on the wire: seed 1's and seed 2's names side by side, photo
//! URLs, and the render-once memo of the views kept in memory.

use lapor_app::views::{
    CategoryStats as CategoryStatsView, LocationView, PhotoRef, ReportView, TimelineEntry,
};
use lapor_domain::Timestamp;
use lapor_domain::access::Visibility;
use lapor_domain::catalog::{AgencyCode, CategorySlug};
use lapor_domain::ids::{PhotoId, ReportId, UserId};
use lapor_domain::lifecycle::Status;
use serde::{Serialize, Serializer};
use serde_json::value::RawValue;
use utoipa::openapi::{RefOr, schema::Schema};
use utoipa::{PartialSchema, ToSchema};

/// A report view as the API writes it; the shape is [`ReportJson`]'s.
///
/// A view a store keeps in memory (one with a render memo) is serialized
/// once per change and that JSON is written from then on; debug builds
/// (the tests) check every such write against a fresh serialization, so a
/// view changed after it was first written fails them instead of showing
/// stale data.
#[derive(Debug, Clone)]
pub struct Report(pub ReportView);

impl Serialize for Report {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let v = &self.0;
        let Some(memo) = &v.rendered else {
            return ReportJson::from(v).serialize(s);
        };
        let shown = v.reporter_user_id.is_some();
        let Some(raw) = memo.get_or_init(shown, || render(v)) else {
            return ReportJson::from(v).serialize(s);
        };
        #[cfg(debug_assertions)]
        {
            let fresh =
                serde_json::to_string(&ReportJson::from(v)).map_err(serde::ser::Error::custom)?;
            assert_eq!(raw.get(), fresh, "a rendered report view went stale");
        }
        raw.serialize(s)
    }
}

fn render(v: &ReportView) -> Box<RawValue> {
    serde_json::value::to_raw_value(&ReportJson::from(v)).expect("a report view always serializes")
}

impl PartialSchema for Report {
    fn schema() -> RefOr<Schema> {
        ReportJson::schema()
    }
}

impl ToSchema for Report {
    fn name() -> std::borrow::Cow<'static, str> {
        ReportJson::name()
    }
    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        ReportJson::schemas(schemas)
    }
}

/// A report: seed 2's names (`id`, `description`, `status`) beside seed 1's
/// (`report_id`, `content`, `current_status`), each pair the same value.
#[derive(Serialize, ToSchema)]
#[schema(as = Report)]
pub struct ReportJson<'a> {
    #[schema(value_type = String, format = Uuid)]
    pub id: ReportId,
    /// Same as `id` (seed 1's name).
    #[schema(value_type = String, format = Uuid)]
    pub report_id: ReportId,
    pub title: &'a str,
    pub content: &'a str,
    /// Same as `content` (seed 2's name).
    pub description: &'a str,
    #[schema(value_type = String, example = "infrastruktur")]
    pub category: &'a CategorySlug,
    #[schema(value_type = String, example = "AGENCY_INFRA")]
    pub owner_agency: &'a AgencyCode,
    #[schema(value_type = String, example = "PUBLIC")]
    pub visibility: Visibility,
    #[schema(value_type = String, example = "RECEIVED")]
    pub status: Status,
    /// Same as `status` (seed 1's name).
    #[schema(value_type = String, example = "RECEIVED")]
    pub current_status: Status,
    pub vote_count: i64,
    pub escalation_level: i64,
    pub location: Option<Location<'a>>,
    /// Present only for callers allowed to know the reporter; never for
    /// ANONYMOUS reports.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = Uuid)]
    pub reporter_user_id: Option<UserId>,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub last_status_at: Timestamp,
    /// The report's photos, oldest first (sanitised JPEGs; the URLs answer
    /// to whoever may see the report).
    pub photos: Vec<Photo>,
    /// Status changes, answers and escalations; only in single-report reads
    /// for the reporter and the responsible staff.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeline: Option<Vec<Timeline<'a>>>,
}

impl<'a> From<&'a ReportView> for ReportJson<'a> {
    fn from(v: &'a ReportView) -> Self {
        Self {
            id: v.id,
            report_id: v.id,
            title: &v.title,
            content: &v.content,
            description: &v.content,
            category: &v.category,
            owner_agency: &v.owner_agency,
            visibility: v.visibility,
            status: v.status,
            current_status: v.status,
            vote_count: v.vote_count,
            escalation_level: v.escalation_level,
            location: v.location.as_ref().map(Location::from),
            reporter_user_id: v.reporter_user_id,
            created_at: v.created_at,
            updated_at: v.updated_at,
            last_status_at: v.last_status_at,
            photos: v.photos.iter().map(Photo::from).collect(),
            timeline: v
                .timeline
                .as_ref()
                .map(|t| t.iter().map(Timeline::from).collect()),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct Location<'a> {
    pub lat: f64,
    pub lon: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<&'a str>,
}

impl<'a> From<&'a LocationView> for Location<'a> {
    fn from(l: &'a LocationView) -> Self {
        Self {
            lat: l.lat,
            lon: l.lon,
            address: l.address.as_deref(),
        }
    }
}

impl<'a> From<&'a lapor_domain::report::Location> for Location<'a> {
    fn from(l: &'a lapor_domain::report::Location) -> Self {
        Self {
            lat: l.lat,
            lon: l.lon,
            address: l.address.as_deref(),
        }
    }
}

/// A photo of a report: where to fetch it and its thumbnail.
#[derive(Serialize, ToSchema)]
pub struct Photo {
    #[schema(value_type = String, format = Uuid)]
    pub id: PhotoId,
    /// `/reports/{report_id}/photos/{photo_id}` (a JPEG).
    pub url: String,
    /// `/reports/{report_id}/photos/{photo_id}/thumb` (a JPEG within 320x320).
    pub thumb_url: String,
}

impl From<&PhotoRef> for Photo {
    fn from(p: &PhotoRef) -> Self {
        let url = photo_url(p.report, p.id);
        Self {
            id: p.id,
            thumb_url: format!("{url}/thumb"),
            url,
        }
    }
}

/// Where a photo is served (the route in `routes::photos`).
pub fn photo_url(report: ReportId, photo: PhotoId) -> String {
    format!("/reports/{report}/photos/{photo}")
}

#[derive(Serialize, ToSchema)]
#[schema(as = TimelineEntry)]
pub struct Timeline<'a> {
    /// `created`, `status`, `answer`, `escalation` or `withdrawn`.
    pub kind: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub escalation_level: Option<i64>,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
}

impl<'a> From<&'a TimelineEntry> for Timeline<'a> {
    fn from(e: &'a TimelineEntry) -> Self {
        Self {
            kind: &e.kind,
            status: e.status.as_deref(),
            message: e.message.as_deref(),
            escalation_level: e.escalation_level,
            at: e.at,
        }
    }
}

/// A write-side report as the create and edit answers show it (`data`).
#[derive(Serialize, ToSchema)]
pub struct ReportData<'a> {
    #[schema(value_type = String, example = "infrastruktur")]
    pub category: &'a CategorySlug,
    pub content: &'a str,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    /// Same as `content`.
    pub description: &'a str,
    #[schema(value_type = String, format = Uuid)]
    pub id: ReportId,
    pub location: Option<Location<'a>>,
    #[schema(value_type = String, example = "AGENCY_INFRA")]
    pub owner_agency: &'a AgencyCode,
    /// Same as `id`.
    #[schema(value_type = String, format = Uuid)]
    pub report_id: ReportId,
    #[schema(value_type = String, example = "RECEIVED")]
    pub status: Status,
    pub title: &'a str,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
    #[schema(value_type = String, example = "PUBLIC")]
    pub visibility: Visibility,
}

impl<'a> From<&'a lapor_domain::report::Report> for ReportData<'a> {
    fn from(r: &'a lapor_domain::report::Report) -> Self {
        Self {
            category: &r.category,
            content: &r.content,
            created_at: r.created_at,
            description: &r.content,
            id: r.id,
            location: r.location.as_ref().map(Location::from),
            owner_agency: &r.agency,
            report_id: r.id,
            status: r.status,
            title: &r.title,
            updated_at: r.updated_at,
            visibility: r.visibility,
        }
    }
}

/// Report counts of one category.
#[derive(Serialize, ToSchema)]
pub struct CategoryStats {
    #[schema(value_type = String)]
    pub category: CategorySlug,
    pub total_count: i64,
    pub pending_count: i64,
    pub in_progress_count: i64,
    pub resolved_count: i64,
    pub rejected_count: i64,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub last_updated: Timestamp,
}

impl From<CategoryStatsView> for CategoryStats {
    fn from(c: CategoryStatsView) -> Self {
        Self {
            category: c.category,
            total_count: c.total_count,
            pending_count: c.pending_count,
            in_progress_count: c.in_progress_count,
            resolved_count: c.resolved_count,
            rejected_count: c.rejected_count,
            last_updated: c.last_updated,
        }
    }
}

/// A category and the agency it is routed to.
#[derive(Serialize, ToSchema)]
pub struct CategoryJson {
    #[schema(value_type = String, example = "AGENCY_INFRA")]
    pub agency: AgencyCode,
    pub agency_name: Option<String>,
    pub name: String,
    #[schema(value_type = String, example = "infrastruktur")]
    pub slug: CategorySlug,
}

/// `POST /reports` (201).
#[derive(Serialize, ToSchema)]
pub struct ReportCreated<'a> {
    pub data: ReportData<'a>,
    /// The process that answered.
    pub instance: &'a str,
    pub message: &'static str,
    #[schema(value_type = String, format = Uuid)]
    pub report_id: ReportId,
    pub success: bool,
}

/// `PUT /reports/{id}`: a status change or an edit.
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
pub enum ReportUpdated<'a> {
    Status {
        data: StatusData,
        message: &'static str,
        #[schema(value_type = String)]
        new_status: Status,
        #[schema(value_type = String)]
        old_status: Status,
        #[schema(value_type = String, format = Uuid)]
        report_id: ReportId,
        success: bool,
    },
    Edited {
        data: ReportData<'a>,
        message: &'static str,
        success: bool,
    },
}

/// The report after a status change.
#[derive(Serialize, ToSchema)]
pub struct StatusData {
    #[schema(value_type = String, format = Uuid)]
    pub id: ReportId,
    #[schema(value_type = String)]
    pub status: Status,
}

/// `DELETE /reports/{id}`.
#[derive(Serialize, ToSchema)]
pub struct Withdrawn {
    pub message: &'static str,
    #[schema(value_type = String, format = Uuid)]
    pub report_id: ReportId,
    pub success: bool,
}

/// `POST /reports/{id}/upvote`.
#[derive(Serialize, ToSchema)]
pub struct Upvoted {
    pub message: &'static str,
    #[schema(value_type = String, format = Uuid)]
    pub report_id: ReportId,
    pub success: bool,
    pub vote_count: i64,
}

/// `GET /categories`.
#[derive(Serialize, ToSchema)]
pub struct Categories {
    pub data: Vec<CategoryJson>,
    pub success: bool,
}

/// `POST /reports/{id}/photos` (201).
#[derive(Serialize, ToSchema)]
pub struct PhotosAdded {
    pub data: Vec<Photo>,
    /// Only with `share_location`: whether the first photo's GPS position
    /// became the report's location.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location_set_from_photo: Option<bool>,
    pub message: &'static str,
    #[schema(value_type = String, format = Uuid)]
    pub report_id: ReportId,
    pub success: bool,
}

/// A JPEG file (a photo or its thumbnail), for the API documentation.
#[derive(ToSchema)]
#[schema(value_type = String, format = Binary)]
#[allow(dead_code)]
pub struct Jpeg(Vec<u8>);

#[cfg(test)]
mod tests {
    use super::*;
    use lapor_app::views::LocationView;
    use lapor_domain::access::Owner;
    use serde_json::json;

    fn view(reporter: Option<UserId>) -> ReportView {
        let id = ReportId(uuid::Uuid::now_v7());
        let at = time::OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
        ReportView {
            id,
            report_id: id,
            title: "Lampu \"jalan\" mati\n".into(),
            content: "Sejak <b>kemarin</b> — ümlaut".into(),
            description: "Sejak <b>kemarin</b> — ümlaut".into(),
            category: CategorySlug::parse("infrastruktur").unwrap(),
            owner_agency: AgencyCode::parse("AGENCY_INFRA").unwrap(),
            visibility: Visibility::Public,
            status: Status::Received,
            current_status: Status::Received,
            vote_count: 3,
            escalation_level: 1,
            location: Some(LocationView {
                lat: -6.2,
                lon: 106.816666,
                address: Some("Jl. Sudirman".into()),
            }),
            reporter_user_id: reporter,
            created_at: at,
            updated_at: at,
            last_status_at: at,
            photos: vec![PhotoRef::new(id, PhotoId(uuid::Uuid::now_v7()))],
            timeline: None,
            owner: reporter.map(Owner::User),
            rendered: None,
        }
    }

    #[test]
    fn a_report_has_both_seeds_names_from_one_field_each() {
        let mut v = view(None);
        // The app's duplicate fields are not read: only `id`, `content`
        // and `status` count.
        v.report_id = ReportId(uuid::Uuid::now_v7());
        v.description = "stale".into();
        v.current_status = Status::Rejected;
        let json = serde_json::to_value(Report(v.clone())).unwrap();
        let photo = v.photos[0].id;
        let url = format!("/reports/{}/photos/{photo}", v.id);
        assert_eq!(
            json,
            json!({
                "id": v.id, "report_id": v.id, "title": v.title, "content": v.content,
                "description": v.content, "category": "infrastruktur", "owner_agency": "AGENCY_INFRA",
                "visibility": "PUBLIC", "status": "RECEIVED", "current_status": "RECEIVED",
                "vote_count": 3, "escalation_level": 1,
                "location": {"lat": -6.2, "lon": 106.816666, "address": "Jl. Sudirman"},
                "created_at": "2023-11-14T22:13:20Z", "updated_at": "2023-11-14T22:13:20Z",
                "last_status_at": "2023-11-14T22:13:20Z",
                "photos": [{"id": photo, "url": url, "thumb_url": format!("{url}/thumb")}],
            })
        );
        // Field order is the struct's (the seed clients' byte shape).
        let text = serde_json::to_string(&Report(v)).unwrap();
        assert!(text.starts_with("{\"id\":"), "{text}");
        assert!(
            text.find("\"report_id\"") < text.find("\"title\""),
            "{text}"
        );
    }

    #[test]
    fn a_memoized_view_writes_the_same_json_with_and_without_the_reporter() {
        let plain = view(Some(UserId(uuid::Uuid::now_v7())));
        let kept = plain.clone().render();
        let memo = kept.rendered.clone().unwrap();
        let json = serde_json::to_string(&Report(kept.clone())).unwrap();
        assert_eq!(json, serde_json::to_string(&Report(plain.clone())).unwrap());
        assert!(json.contains("reporter_user_id"));
        // Written once, then kept (a clone shares the memo).
        let raw = memo.get_or_init(true, || -> Box<RawValue> { unreachable!() });
        assert_eq!(raw.map(|r| r.get()), Some(json.as_str()));
        // Redaction after the memo was filled writes the JSON without the
        // reporter.
        let (mut plain_hidden, mut hidden) = (plain.clone(), kept.clone());
        plain_hidden.reporter_user_id = None;
        hidden.reporter_user_id = None;
        let json = serde_json::to_string(&Report(hidden.clone())).unwrap();
        assert_eq!(
            json,
            serde_json::to_string(&Report(plain_hidden.clone())).unwrap()
        );
        assert!(!json.contains("reporter_user_id"));
        // Inside a larger document, and through serde_json::Value.
        assert_eq!(
            serde_json::to_value(vec![Report(kept), Report(hidden)]).unwrap(),
            serde_json::to_value(vec![Report(plain), Report(plain_hidden)]).unwrap()
        );
    }

    #[test]
    #[cfg(debug_assertions)]
    #[should_panic(expected = "went stale")]
    fn a_view_changed_after_it_was_written_is_caught_in_debug_builds() {
        let mut v = view(None).render();
        let _ = serde_json::to_string(&Report(v.clone()));
        v.vote_count += 1;
        let _ = serde_json::to_string(&Report(v));
    }
}
