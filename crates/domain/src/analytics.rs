//! Performance analytics: how fast agencies and their officers respond to
//! and resolve cases, and how often the SLA is breached, over a period.
//! Pure aggregation of the [`CaseFacts`] and [`OpenCases`] the operations
//! store extracts; no I/O, no clock.
//!
//! Definitions (docs/api.md repeats them for API users):
//!
//! * **Cases in the period**: cases (withdrawn ones excluded) whose report
//!   was filed in `[from, to)`. Every figure except the open backlog is about
//!   these cases, whenever the later actions happened (a cohort view).
//! * **Time to first response**: from filing to the earliest staff action on
//!   the case, a status change or an answer, whichever came first.
//! * **Time to resolution**: from filing to the move to RESOLVED or REJECTED
//!   (both close a case).
//! * **Median and p90**: nearest-rank percentiles of those durations, in
//!   whole seconds (see [`percentile`]); `None` without samples.
//! * **SLA breach rate**: cases escalated at least once (escalation level
//!   1 or more, as of now) divided by the cases in the period; `None` when
//!   there are none. Cases still open and not yet due are not breaches (yet).
//! * **Open backlog**: cases open now (RECEIVED or IN_PROGRESS), whenever
//!   they were filed.
//! * **Officers**: a case counts for the officer who responded first and for
//!   the officer who closed it (once if both). An officer's open backlog is
//!   the cases they moved to IN_PROGRESS that are still IN_PROGRESS.
//! * **Per day**: UTC days of the period; `created` counts the cases filed
//!   that day, `resolved` those of them closed (RESOLVED or REJECTED) that
//!   day.

use crate::Timestamp;
use crate::catalog::{AgencyCode, CategorySlug};
use crate::ids::{ReportId, UserId};
use crate::lifecycle::Status;
use std::collections::BTreeMap;
use time::{Date, Duration};

/// What analytics needs to know about one case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseFacts {
    pub report_id: ReportId,
    pub agency: AgencyCode,
    pub category: CategorySlug,
    pub created_at: Timestamp,
    /// The current status.
    pub status: Status,
    pub escalation_level: i64,
    /// The earliest status change or answer, and who made it.
    pub first_response_at: Option<Timestamp>,
    pub first_responder: Option<UserId>,
    /// The move to RESOLVED or REJECTED, and who made it.
    pub resolved_at: Option<Timestamp>,
    pub resolver: Option<UserId>,
}

impl CaseFacts {
    /// A case before any staff action is recorded.
    pub fn new(
        report_id: ReportId,
        agency: AgencyCode,
        category: CategorySlug,
        created_at: Timestamp,
        status: Status,
        escalation_level: i64,
    ) -> Self {
        Self {
            report_id,
            agency,
            category,
            created_at,
            status,
            escalation_level,
            first_response_at: None,
            first_responder: None,
            resolved_at: None,
            resolver: None,
        }
    }

    /// Records a staff action: a status change to `new_status`, or an answer
    /// (`None`). The order of the calls does not matter: the earliest action
    /// is the first response (on a tie, the one recorded first), the
    /// earliest move to RESOLVED or REJECTED the resolution.
    pub fn record_action(&mut self, at: Timestamp, actor: UserId, new_status: Option<Status>) {
        if self.first_response_at.is_none_or(|t| at < t) {
            self.first_response_at = Some(at);
            self.first_responder = Some(actor);
        }
        if let Some(s) = new_status.filter(|s| s.is_final())
            && self.resolved_at.is_none_or(|t| at < t)
        {
            self.resolved_at = Some(at);
            self.resolver = Some(actor);
            // A final status is the current one (it cannot change again).
            self.status = s;
        }
    }
}

/// A count of open cases (RECEIVED or IN_PROGRESS) of one agency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenCases {
    pub agency: AgencyCode,
    pub status: Status,
    /// Who moved them to IN_PROGRESS (`None` for RECEIVED cases).
    pub taken_by: Option<UserId>,
    pub count: i64,
}

/// The `p`-th percentile (`p` in 1..=100) of ascending `sorted` samples by
/// the nearest-rank method: the smallest sample such that at least `p`% of
/// the samples are less than or equal to it, i.e. the sample at 1-based rank
/// `ceil(p / 100 * n)`. It is always one of the samples (no interpolation);
/// the median (p = 50) of an even count is the lower middle one. Of 1..=10
/// the median is 5 and p90 is 9. `None` for no samples.
pub fn percentile(sorted: &[i64], p: u32) -> Option<i64> {
    let n = sorted.len();
    if n == 0 {
        return None;
    }
    let p = p.clamp(1, 100) as usize;
    let rank = (p * n).div_ceil(100).clamp(1, n);
    Some(sorted[rank - 1])
}

/// Durations in whole seconds, summarised.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Durations {
    pub samples: i64,
    pub median_seconds: Option<i64>,
    pub p90_seconds: Option<i64>,
}

impl Durations {
    pub fn of(mut seconds: Vec<i64>) -> Self {
        seconds.sort_unstable();
        Self {
            samples: seconds.len() as i64,
            median_seconds: percentile(&seconds, 50),
            p90_seconds: percentile(&seconds, 90),
        }
    }
}

/// Figures about a set of cases in the period.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CaseStats {
    /// Cases filed in the period (for an officer: those they handled).
    pub cases: i64,
    /// Of those, cases with a first response (for an officer: theirs).
    pub responded: i64,
    /// Of those, cases closed as RESOLVED (for an officer: by them).
    pub resolved: i64,
    /// Of those, cases closed as REJECTED (for an officer: by them).
    pub rejected: i64,
    /// Of those, cases escalated at least once.
    pub escalated: i64,
    pub first_response: Durations,
    pub resolution: Durations,
}

impl CaseStats {
    /// Escalated cases / cases, in [0, 1]; `None` without cases.
    pub fn breach_rate(&self) -> Option<f64> {
        (self.cases > 0).then(|| self.escalated as f64 / self.cases as f64)
    }
}

/// Open cases now.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Backlog {
    pub received: i64,
    pub in_progress: i64,
}

impl Backlog {
    pub fn total(&self) -> i64 {
        self.received + self.in_progress
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct AgencyPerformance {
    pub agency: AgencyCode,
    pub backlog: Backlog,
    pub stats: CaseStats,
}

#[derive(Debug, Clone, PartialEq)]
pub struct OfficerPerformance {
    pub user_id: UserId,
    /// The agency of the cases counted in this row (an officer who acted
    /// for several agencies, such as the city head, has a row per agency).
    pub agency: AgencyCode,
    /// Cases they took (moved to IN_PROGRESS) that are still IN_PROGRESS.
    pub in_progress: i64,
    pub stats: CaseStats,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayCount {
    /// A day in the UTC offset of the period's start (UTC from the API).
    pub date: Date,
    pub created: i64,
    pub resolved: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Performance {
    pub from: Timestamp,
    pub to: Timestamp,
    /// Every selected agency together.
    pub overall: CaseStats,
    pub backlog: Backlog,
    /// By agency code.
    pub agencies: Vec<AgencyPerformance>,
    /// By agency, then user id.
    pub officers: Vec<OfficerPerformance>,
    /// Every UTC day that overlaps `[from, to)`, in order.
    pub daily: Vec<DayCount>,
}

fn seconds_between(from: Timestamp, to: Timestamp) -> i64 {
    (to - from).whole_seconds().max(0)
}

#[derive(Default)]
struct Acc {
    cases: i64,
    responded: i64,
    resolved: i64,
    rejected: i64,
    escalated: i64,
    first_response: Vec<i64>,
    resolution: Vec<i64>,
}

impl Acc {
    fn case(&mut self, f: &CaseFacts) {
        self.cases += 1;
        if f.escalation_level > 0 {
            self.escalated += 1;
        }
    }
    fn response(&mut self, f: &CaseFacts) {
        if let Some(at) = f.first_response_at {
            self.responded += 1;
            self.first_response.push(seconds_between(f.created_at, at));
        }
    }
    fn closing(&mut self, f: &CaseFacts) {
        if let Some(at) = f.resolved_at {
            if f.status == Status::Rejected {
                self.rejected += 1;
            } else {
                self.resolved += 1;
            }
            self.resolution.push(seconds_between(f.created_at, at));
        }
    }
    fn all(&mut self, f: &CaseFacts) {
        self.case(f);
        self.response(f);
        self.closing(f);
    }
    fn finish(self) -> CaseStats {
        CaseStats {
            cases: self.cases,
            responded: self.responded,
            resolved: self.resolved,
            rejected: self.rejected,
            escalated: self.escalated,
            first_response: Durations::of(self.first_response),
            resolution: Durations::of(self.resolution),
        }
    }
}

/// Aggregates the facts of the cases filed in `[from, to)` (facts outside it
/// are ignored) and the open cases. `agencies` get a row even without any
/// case; agencies that only appear in the facts get one too.
pub fn summarize(
    from: Timestamp,
    to: Timestamp,
    agencies: &[AgencyCode],
    facts: &[CaseFacts],
    open: &[OpenCases],
) -> Performance {
    let in_period = |t: Timestamp| from <= t && t < to;
    let mut overall = Acc::default();
    let mut backlog = Backlog::default();
    let mut by_agency: BTreeMap<AgencyCode, (Backlog, Acc)> = agencies
        .iter()
        .map(|a| (a.clone(), Default::default()))
        .collect();
    let mut by_officer: BTreeMap<(AgencyCode, UserId), (i64, Acc)> = BTreeMap::new();

    // Days are those of `from`'s UTC offset (the JSON API passes UTC; the
    // web app passes the city's zone so its chart matches its dates).
    let zone = from.offset();
    let local_date = |t: Timestamp| t.to_offset(zone).date();
    let first_day = local_date(from);
    let days = if from < to {
        (local_date(to - Duration::nanoseconds(1)) - first_day).whole_days() + 1
    } else {
        0
    };
    let mut daily: Vec<DayCount> = (0..days)
        .map(|i| DayCount {
            date: first_day + Duration::days(i),
            created: 0,
            resolved: 0,
        })
        .collect();
    let day = |t: Timestamp| -> Option<usize> {
        let i = (local_date(t) - first_day).whole_days();
        (0..days).contains(&i).then_some(i as usize)
    };

    for f in facts.iter().filter(|f| in_period(f.created_at)) {
        overall.all(f);
        by_agency.entry(f.agency.clone()).or_default().1.all(f);
        if let Some(i) = day(f.created_at) {
            daily[i].created += 1;
        }
        if let Some(i) = f.resolved_at.filter(|t| in_period(*t)).and_then(day) {
            daily[i].resolved += 1;
        }
        if let Some(u) = f.first_responder {
            let acc = &mut by_officer.entry((f.agency.clone(), u)).or_default().1;
            acc.case(f);
            acc.response(f);
        }
        if let Some(u) = f.resolver {
            let acc = &mut by_officer.entry((f.agency.clone(), u)).or_default().1;
            if f.first_responder != Some(u) {
                acc.case(f);
            }
            acc.closing(f);
        }
    }

    for o in open {
        let slot = &mut by_agency.entry(o.agency.clone()).or_default().0;
        match o.status {
            Status::Received => {
                slot.received += o.count;
                backlog.received += o.count;
            }
            Status::InProgress => {
                slot.in_progress += o.count;
                backlog.in_progress += o.count;
                if let Some(u) = o.taken_by {
                    by_officer.entry((o.agency.clone(), u)).or_default().0 += o.count;
                }
            }
            // Not open: nothing to count.
            Status::Resolved | Status::Rejected => {}
        }
    }

    Performance {
        from,
        to,
        overall: overall.finish(),
        backlog,
        agencies: by_agency
            .into_iter()
            .map(|(agency, (backlog, acc))| AgencyPerformance {
                agency,
                backlog,
                stats: acc.finish(),
            })
            .collect(),
        officers: by_officer
            .into_iter()
            .map(
                |((agency, user_id), (in_progress, acc))| OfficerPerformance {
                    user_id,
                    agency,
                    in_progress,
                    stats: acc.finish(),
                },
            )
            .collect(),
        daily,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::UtcOffset;
    use time::macros::{date, datetime};

    const T0: Timestamp = datetime!(2026-03-01 08:00 UTC);

    fn agency(s: &str) -> AgencyCode {
        AgencyCode::parse(s).unwrap()
    }

    fn user(n: u128) -> UserId {
        UserId(uuid::Uuid::from_u128(n))
    }

    /// A case filed `created` seconds after T0.
    fn case(a: &str, created: i64) -> CaseFacts {
        CaseFacts {
            report_id: ReportId::new_v7(),
            agency: agency(a),
            category: CategorySlug::parse("infrastruktur").unwrap(),
            created_at: T0 + Duration::seconds(created),
            status: Status::Received,
            escalation_level: 0,
            first_response_at: None,
            first_responder: None,
            resolved_at: None,
            resolver: None,
        }
    }

    fn responded(mut f: CaseFacts, by: UserId, after: i64) -> CaseFacts {
        f.first_response_at = Some(f.created_at + Duration::seconds(after));
        f.first_responder = Some(by);
        if f.status == Status::Received {
            f.status = Status::InProgress;
        }
        f
    }

    fn closed(mut f: CaseFacts, by: UserId, after: i64, status: Status) -> CaseFacts {
        f.resolved_at = Some(f.created_at + Duration::seconds(after));
        f.resolver = Some(by);
        f.status = status;
        f
    }

    #[test]
    fn actions_in_any_order_give_the_first_response_and_the_resolution() {
        let (alice, bob) = (user(1), user(2));
        let at = |s| T0 + Duration::seconds(s);
        let mut f = case("AGENCY_INFRA", 0);
        f.record_action(at(300), alice, Some(Status::Resolved));
        f.record_action(at(100), bob, None);
        f.record_action(at(200), alice, Some(Status::InProgress));
        f.record_action(at(100), alice, Some(Status::InProgress));
        assert_eq!(
            (f.first_response_at, f.first_responder),
            (Some(at(100)), Some(bob)),
            "the earliest; on a tie the one recorded first"
        );
        assert_eq!((f.resolved_at, f.resolver), (Some(at(300)), Some(alice)));
        assert_eq!(f.status, Status::Resolved);
    }

    #[test]
    fn percentiles_of_nothing_are_none() {
        assert_eq!(percentile(&[], 50), None);
        assert_eq!(Durations::of(vec![]), Durations::default());
    }

    #[test]
    fn percentiles_of_one_sample_are_that_sample() {
        for p in [1, 50, 90, 100] {
            assert_eq!(percentile(&[42], p), Some(42));
        }
    }

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let v: Vec<i64> = (1..=10).collect();
        assert_eq!(percentile(&v, 50), Some(5), "lower middle of an even count");
        assert_eq!(percentile(&v, 90), Some(9));
        assert_eq!(percentile(&v, 91), Some(10));
        assert_eq!(percentile(&v, 100), Some(10));
        assert_eq!(percentile(&v, 1), Some(1));
        assert_eq!(percentile(&[1, 2, 3], 50), Some(2));
        assert_eq!(percentile(&[5, 5, 5, 9], 50), Some(5), "ties");
        assert_eq!(percentile(&[5, 5, 5, 9], 90), Some(9));
        assert_eq!(
            Durations::of(vec![30, 10, 20]),
            Durations {
                samples: 3,
                median_seconds: Some(20),
                p90_seconds: Some(30)
            },
            "unsorted input is sorted first"
        );
    }

    proptest! {
        #[test]
        fn a_percentile_is_a_sample_with_at_least_p_percent_at_or_below_it(
            mut v in proptest::collection::vec(-1000i64..1000, 1..200),
            p in 1u32..=100,
        ) {
            v.sort_unstable();
            let x = percentile(&v, p).unwrap();
            prop_assert!(v.contains(&x));
            let at_or_below = v.iter().filter(|s| **s <= x).count();
            prop_assert!(at_or_below * 100 >= p as usize * v.len());
            // and it is the smallest such sample
            let below = v.iter().filter(|s| **s < x).count();
            prop_assert!(below * 100 < p as usize * v.len());
        }

        #[test]
        fn percentiles_grow_with_p(
            mut v in proptest::collection::vec(0i64..100_000, 1..100),
            p in 1u32..100,
        ) {
            v.sort_unstable();
            prop_assert!(percentile(&v, p) <= percentile(&v, p + 1));
            let d = Durations::of(v.clone());
            prop_assert!(d.median_seconds <= d.p90_seconds);
            prop_assert_eq!(d.samples, v.len() as i64);
        }
    }

    #[test]
    fn given_no_cases_then_agencies_have_empty_rows_and_no_rates() {
        let from = T0;
        let to = T0 + Duration::days(2);
        let p = summarize(from, to, &[agency("AGENCY_INFRA")], &[], &[]);
        assert_eq!(p.agencies.len(), 1);
        let a = &p.agencies[0];
        assert_eq!(a.agency, agency("AGENCY_INFRA"));
        assert_eq!(a.stats, CaseStats::default());
        assert_eq!(a.stats.breach_rate(), None);
        assert_eq!(a.stats.first_response.median_seconds, None);
        assert!(p.officers.is_empty());
        // 08:00 on day 1 to 08:00 on day 3 touches three UTC days
        assert_eq!(
            p.daily.iter().map(|d| d.date).collect::<Vec<_>>(),
            [
                date!(2026 - 03 - 01),
                date!(2026 - 03 - 02),
                date!(2026 - 03 - 03)
            ]
        );
    }

    #[test]
    fn days_follow_the_offset_of_the_period_start() {
        // T0 is 08:00 UTC; a case 14 h later is on the next day in UTC+7.
        let wib = UtcOffset::from_hms(7, 0, 0).unwrap();
        let from = date!(2026 - 03 - 01).midnight().assume_offset(wib);
        let to = from + Duration::days(2);
        let late = case("AGENCY_INFRA", 14 * 3600);
        let p = summarize(from, to, &[agency("AGENCY_INFRA")], &[late], &[]);
        assert_eq!(
            p.daily
                .iter()
                .map(|d| (d.date, d.created))
                .collect::<Vec<_>>(),
            [(date!(2026 - 03 - 01), 0), (date!(2026 - 03 - 02), 1)]
        );
    }

    #[test]
    fn agencies_and_officers_are_summarised() {
        let (alice, bob) = (user(1), user(2));
        let facts = vec![
            // alice takes at 60 s and resolves at 600 s
            closed(
                responded(case("AGENCY_INFRA", 0), alice, 60),
                alice,
                600,
                Status::Resolved,
            ),
            // bob answers at 120 s, alice rejects at 300 s; escalated once
            {
                let mut f = closed(
                    responded(case("AGENCY_INFRA", 10), bob, 120),
                    alice,
                    300,
                    Status::Rejected,
                );
                f.escalation_level = 1;
                f
            },
            // bob takes at 30 s, still in progress; escalated twice
            {
                let mut f = responded(case("AGENCY_INFRA", 20), bob, 30);
                f.escalation_level = 2;
                f
            },
            // untouched
            case("AGENCY_INFRA", 30),
            // another agency, next day
            closed(
                responded(case("AGENCY_HEALTH", 86_400), user(3), 10),
                user(3),
                20,
                Status::Resolved,
            ),
            // outside the period: ignored
            responded(case("AGENCY_INFRA", -10), alice, 1),
        ];
        let open = vec![
            OpenCases {
                agency: agency("AGENCY_INFRA"),
                status: Status::Received,
                taken_by: None,
                count: 4,
            },
            OpenCases {
                agency: agency("AGENCY_INFRA"),
                status: Status::InProgress,
                taken_by: Some(bob),
                count: 2,
            },
        ];
        let p = summarize(
            T0,
            T0 + Duration::days(7),
            &[agency("AGENCY_SAFETY")],
            &facts,
            &open,
        );
        assert_eq!(
            p.agencies
                .iter()
                .map(|a| a.agency.as_str())
                .collect::<Vec<_>>(),
            ["AGENCY_HEALTH", "AGENCY_INFRA", "AGENCY_SAFETY"]
        );
        let infra = &p.agencies[1];
        assert_eq!(infra.backlog.total(), 6);
        assert_eq!(infra.backlog.in_progress, 2);
        let s = &infra.stats;
        assert_eq!(
            (s.cases, s.responded, s.resolved, s.rejected, s.escalated),
            (4, 3, 1, 1, 2)
        );
        assert_eq!(s.breach_rate(), Some(0.5));
        // first responses (from each case's own filing): 60, 120, 30
        assert_eq!(
            s.first_response,
            Durations {
                samples: 3,
                median_seconds: Some(60),
                p90_seconds: Some(120)
            }
        );
        assert_eq!(
            s.resolution,
            Durations {
                samples: 2,
                median_seconds: Some(300),
                p90_seconds: Some(600)
            }
        );
        assert_eq!(p.overall.cases, 5);
        assert_eq!(p.backlog.total(), 6);
        assert_eq!(p.agencies[2].stats.cases, 0);

        // officers: by agency, then user id
        let rows: Vec<_> = p
            .officers
            .iter()
            .map(|o| (o.agency.as_str(), o.user_id))
            .collect();
        assert_eq!(
            rows,
            [
                ("AGENCY_HEALTH", user(3)),
                ("AGENCY_INFRA", alice),
                ("AGENCY_INFRA", bob)
            ]
        );
        let a = &p.officers[1].stats;
        assert_eq!(
            (a.cases, a.responded, a.resolved, a.rejected, a.escalated),
            (2, 1, 1, 1, 1)
        );
        assert_eq!(a.first_response.median_seconds, Some(60));
        assert_eq!(a.resolution.samples, 2);
        assert_eq!(a.breach_rate(), Some(0.5));
        let b = &p.officers[2];
        assert_eq!(b.in_progress, 2);
        assert_eq!(
            (b.stats.cases, b.stats.responded, b.stats.escalated),
            (2, 2, 2)
        );
        assert_eq!(b.stats.first_response.p90_seconds, Some(120));
        assert_eq!(b.stats.resolution.samples, 0);

        // per day: four filed on day 1 (two closed that day), one on day 2
        assert_eq!(p.daily.len(), 8, "08:00 to 08:00 a week later");
        assert_eq!((p.daily[0].created, p.daily[0].resolved), (4, 2));
        assert_eq!((p.daily[1].created, p.daily[1].resolved), (1, 1));
        assert!(
            p.daily[2..]
                .iter()
                .all(|d| d.created == 0 && d.resolved == 0)
        );
    }

    #[test]
    fn closings_after_the_period_count_in_durations_but_not_per_day() {
        // rejected straight from RECEIVED: the rejection is also the first response
        let f = closed(
            responded(case("AGENCY_INFRA", 0), user(1), 7_200),
            user(1),
            7_200,
            Status::Rejected,
        );
        let p = summarize(T0, T0 + Duration::hours(1), &[], &[f], &[]);
        assert_eq!(p.overall.resolution.median_seconds, Some(7_200));
        assert_eq!(p.overall.rejected, 1);
        assert_eq!(p.daily.len(), 1);
        assert_eq!((p.daily[0].created, p.daily[0].resolved), (1, 0));
        // the officer's row counts the case once
        let o = &p.officers[0].stats;
        assert_eq!((o.cases, o.responded, o.rejected), (1, 1, 1));
    }
}
