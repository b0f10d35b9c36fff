//! The web app in real browsers (headless Chromium over WebDriver): a
//! citizen registers and files a report with a photo and a location, the
//! right agency's officer sees it arrive live while another agency's does
//! not, the officer answers and the citizen's badge and timeline follow,
//! another citizen upvotes in place; ANONYMOUS reports leave no trace of
//! their reporter in staff pages; supervisors see escalations and
//! performance; bad uploads are refused and store nothing. Along the way:
//! screenshots of every main page (target/screenshots/), page weight,
//! layout shift and form labels.
//!
//! Needs `chromium` and `chromium-driver` (Debian); without them the tests
//! print "SKIPPED: no chromium", unless LAPOR_REQUIRE_BROWSER=1 (CI).

mod common;
#[path = "common/browser.rs"]
mod kit;

use common::TestApp;
use kit::{Browser, Driver, eventually, temp_file};
use lapor_media::testing::{contains, has_app1, jpeg, jpeg_with_gps};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// Jakarta, Monas.
const LAT: &str = "-6.175392";
const LON: &str = "106.827153";
const PASSWORD: &str = "rahasia-123";
/// Every page's HTML + CSS + JS (compressed; images and photos excluded,
/// the Leaflet bundle counted where a page has a map).
const MAX_PAGE_BYTES: u64 = 100 * 1024;
const MAX_LAYOUT_SHIFT: f64 = 0.1;

/// A username nobody else in this run has.
fn unique(prefix: &str) -> String {
    format!(
        "{prefix}{}",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    )
}

/// Logs in over the JSON API and returns (token, user id).
async fn api_login(app: &TestApp, username: &str, password: &str) -> (String, String) {
    let (s, v) = app
        .post(
            "/auth/login",
            None,
            json!({"username": username, "password": password}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    (
        v["token"].as_str().unwrap().to_owned(),
        v["user"]["id"].as_str().unwrap().to_owned(),
    )
}

/// Registers a citizen through the page and checks where it lands.
async fn register(b: &Browser, username: &str) {
    b.goto("/app/register").await;
    b.fill("#username", username).await;
    b.fill("#password", PASSWORD).await;
    b.submit("form[action='/app/register']").await;
    assert_eq!(b.path().await, "/app/reports/new", "after registering");
    assert!(b.text("[data-testid=who]").await.contains(username));
}

/// Fills the new-report form (the page must be open).
async fn fill_report(b: &Browser, title: &str, visibility: &str, category: &str) {
    b.select("#category", category).await;
    b.click(&format!("input[name=visibility][value={visibility}]"))
        .await;
    b.fill("#title", title).await;
    b.fill(
        "#content",
        &format!("{title}: sudah dua minggu, berbahaya untuk motor."),
    )
    .await;
}

/// Submits the new-report form and returns the new report's id.
async fn submit_report(b: &Browser) -> String {
    b.submit("#new-report").await;
    b.wait_for("[data-testid=created]").await;
    let id = b
        .wait_for("[data-testid=report-detail]")
        .await
        .attr("data-report-id")
        .await
        .unwrap()
        .expect("report id on the page");
    let path = b.path().await;
    assert!(
        path.starts_with(&format!("/app/reports/{id}?created=1")),
        "{path}"
    );
    id
}

/// Page weight and layout shift of the page `b` has open.
async fn check_page(b: &Browser, name: &str) {
    let (bytes, parts) = b.page_weight().await;
    eprintln!("page weight {name}: {bytes} B: {parts}");
    assert!(
        bytes < MAX_PAGE_BYTES,
        "{name} weighs {bytes} B (HTML + CSS + JS): {parts}"
    );
    let cls = b.layout_shift().await;
    eprintln!("layout shift {name}: {cls:.4}");
    assert!(cls < MAX_LAYOUT_SHIFT, "{name} shifts on load: CLS {cls}");
}

/// The unread badge's number (-1 if it shows none).
async fn unread(b: &Browser) -> i64 {
    b.text("[data-testid=unread-count]")
        .await
        .trim()
        .parse()
        .unwrap_or(-1)
}

async fn get_bytes(app: &TestApp, path: &str, token: &str) -> (StatusCode, Vec<u8>) {
    let res = app
        .http
        .get(format!("{}{path}", app.base))
        .bearer_auth(token)
        .send()
        .await
        .expect("sent");
    (res.status(), res.bytes().await.unwrap().to_vec())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_citizen_files_a_report_and_follows_it_live() {
    let Some(driver) = Driver::start().await else {
        return;
    };
    let app = TestApp::spawn().await;
    let files = tempfile::tempdir().unwrap();
    let (citizen, officer, other) = tokio::join!(
        driver.browser(&app.base),
        driver.browser(&app.base),
        driver.browser(&app.base)
    );

    // The login page, as a visitor sees it.
    citizen.goto("/app/login").await;
    citizen.wait_for("#username").await;
    citizen.screenshot("login").await;

    // Officers of the infrastructure and the health agency wait on their
    // inboxes, each with a stream watcher counting live events.
    tokio::join!(
        officer.login("officer1", "password"),
        other.login("officer2", "password")
    );
    for b in [&officer, &other] {
        assert_eq!(b.path().await, "/app/inbox");
        b.wait_for("tbody#inbox-rows").await;
        b.mark().await;
        b.watch_live().await;
    }

    // 1. A citizen registers and files a PUBLIC report with a photo that
    //    carries GPS data, and a location typed in.
    let username = unique("warga");
    register(&citizen, &username).await;
    citizen.wait_for("#map.leaflet-container").await;
    citizen.screenshot("report_new").await;
    let unlabelled = citizen.unlabelled_controls("#new-report").await;
    assert!(
        unlabelled.is_empty(),
        "form controls without a label: {unlabelled:?}"
    );
    let cls = citizen.layout_shift().await;
    assert!(cls < MAX_LAYOUT_SHIFT, "the report form shifts: CLS {cls}");

    let title = "Jalan berlubang di Jl. Merdeka";
    fill_report(&citizen, title, "PUBLIC", "infrastruktur").await;
    citizen.fill("#lat", LAT).await;
    citizen.fill("#lon", LON).await;
    citizen.fill("#address", "Jl. Medan Merdeka Barat").await;
    let photo = temp_file(
        files.path(),
        "lubang.jpg",
        &jpeg_with_gps(640, 480, -6.2, 106.8),
    );
    citizen
        .wait_for("#photos")
        .await
        .send_keys(photo.to_str().unwrap())
        .await
        .expect("attach the photo");
    let id = submit_report(&citizen).await;
    assert!(citizen.text("h1").await.contains(title));
    // The photo's thumbnail loads, and the map shows the point.
    citizen
        .wait_until(
            "the thumbnail loaded",
            "(function () { var i = document.querySelector('[data-testid=photo]'); \
               if (!i) return false; i.loading = 'eager'; return i.complete && i.naturalWidth > 0; })()",
        )
        .await;
    citizen.wait_for("#map .leaflet-marker-icon").await;
    citizen.screenshot("report_created").await;

    // 2. The infrastructure officer's inbox shows it without a reload; the
    //    health officer's gets nothing.
    let row = format!("tr[data-testid=inbox-row][data-report-id='{id}']");
    officer.wait_for(&row).await;
    assert!(officer.still_marked().await, "the inbox page was reloaded");
    assert!(officer.live_count("inbox").await >= 1);
    assert!(officer.text(&row).await.contains(title));
    assert!(!officer.text("#live-note").await.is_empty());
    // Give the other stream the time it would need to deliver (events are
    // coalesced for 150 ms).
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    assert!(other.still_marked().await);
    assert_eq!(
        other.live_count("inbox").await,
        0,
        "another agency's officer was told"
    );
    assert!(other.find(&row).await.is_none());
    other.goto("/app/inbox").await;
    other.wait_for("tbody#inbox-rows").await;
    assert!(
        other.find(&row).await.is_none(),
        "another agency's inbox lists it"
    );
    assert!(!other.source().await.contains(title));

    // ... and the citizen finds it in My reports.
    citizen.goto("/app/reports/mine").await;
    let mine = citizen
        .wait_for(&format!("[data-testid=my-report][data-report-id='{id}']"))
        .await;
    assert!(mine.text().await.unwrap().contains(title));
    citizen.screenshot("my_reports").await;

    // The stored photo has no EXIF and no GPS position, on disk and served.
    let (token, _) = api_login(&app, &username, PASSWORD).await;
    let (s, v) = app.get(&format!("/reports/{id}"), Some(&token)).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let url = v["data"]["photos"][0]["url"]
        .as_str()
        .unwrap_or_else(|| panic!("the report has a photo: {v}"))
        .to_owned();
    let (s, served) = get_bytes(&app, &url, &token).await;
    assert_eq!(s, StatusCode::OK);
    let files_on_disk = app.stored_photos();
    assert!(!files_on_disk.is_empty());
    for bytes in
        std::iter::once(served).chain(files_on_disk.iter().map(|f| std::fs::read(f).unwrap()))
    {
        assert!(bytes.starts_with(&[0xFF, 0xD8]), "not a JPEG");
        assert!(!has_app1(&bytes), "an APP1 (EXIF) segment is left");
        assert!(!contains(&bytes, b"Exif"), "an Exif marker is left");
        assert!(!contains(&bytes, b"LaporCam"), "the camera make is left");
        assert_eq!(
            lapor_media::sanitize(&bytes).expect("an image").gps,
            None,
            "a GPS position is left"
        );
    }

    // 3. The officer opens the case, moves it to IN_PROGRESS and answers;
    //    the citizen, on the report page, sees the badge go up live.
    citizen.goto(&format!("/app/reports/{id}")).await;
    citizen.wait_for("[data-testid=report-detail]").await;
    let before = unread(&citizen).await;
    assert!(before >= 0, "the unread badge shows a number");
    citizen.mark().await;

    officer.click(&format!("{row} a")).await;
    officer.wait_for("[data-testid=case-detail]").await;
    assert_eq!(officer.path().await, format!("/app/cases/{id}"));
    officer.select("#new-status", "IN_PROGRESS").await;
    officer
        .fill("#reason", "Tim sudah dikirim ke lokasi.")
        .await;
    officer.submit("form[action$='/status']").await;
    assert!(officer.find("[data-testid=form-error]").await.is_none());
    let answer = "Lubang akan ditambal besok pagi.";
    officer.fill("#message", answer).await;
    officer.submit("form[action$='/answer']").await;
    assert!(officer.find("[data-testid=form-error]").await.is_none());
    assert!(officer.text("[data-testid=history]").await.contains(answer));
    officer.wait_for("#map .leaflet-marker-icon").await;
    officer.screenshot("case").await;
    check_page(&officer, "case page").await;

    eventually("the citizen's badge to count both notices", || async {
        (unread(&citizen).await >= before + 2).then_some(())
    })
    .await;
    assert!(citizen.still_marked().await, "the report page was reloaded");

    // The timeline (read on the next visit) has the status change and the
    // answer.
    eventually(
        "the timeline shows the status change and the answer",
        || async {
            citizen.goto(&format!("/app/reports/{id}")).await;
            let status = citizen
                .text("[data-testid=timeline] li[data-kind=status]")
                .await;
            let answered = citizen
                .text("[data-testid=timeline] li[data-kind=answer]")
                .await;
            (status.contains("In progress") && answered.contains(answer)).then_some(())
        },
    )
    .await;
    assert!(
        citizen
            .text("[data-testid=status]")
            .await
            .contains("In progress")
    );
    citizen.wait_for("#map .leaflet-marker-icon").await;
    citizen.screenshot("report_timeline").await;
    check_page(&citizen, "report page").await;

    // My reports carries each report's timeline too (in a disclosure).
    citizen.goto("/app/reports/mine").await;
    let mine = format!("[data-testid=my-report][data-report-id='{id}']");
    citizen
        .click(&format!("{mine} details.steps summary"))
        .await;
    let steps = citizen
        .text(&format!("{mine} [data-testid=my-timeline]"))
        .await;
    assert!(
        steps.contains("In progress") && steps.contains(answer),
        "my reports shows the status change and the answer: {steps}"
    );
    citizen.screenshot("my_reports_timeline").await;

    citizen.goto("/app/notifications").await;
    let notices = citizen.find_all("[data-testid=notification]").await;
    assert!(notices.len() >= 2, "{} notifications", notices.len());
    citizen.screenshot("notifications").await;

    officer.goto("/app/inbox").await;
    officer.wait_for(&row).await;
    officer.screenshot("inbox").await;
    check_page(&officer, "inbox").await;

    // 4. Another citizen upvotes it from the public feed, in place.
    let voter = driver.browser(&app.base).await;
    voter.login("citizen2", "password").await;
    voter.goto("/app/feed").await;
    let count = format!("[data-report-id='{id}'] [data-testid=vote-count]");
    voter.wait_for(&format!("[data-upvote='{id}']")).await;
    assert_eq!(voter.text(&count).await, "0");
    check_page(&voter, "feed").await;
    voter.mark().await;
    voter.click(&format!("[data-upvote='{id}']")).await;
    eventually("the vote count to change in place", || async {
        (voter.text(&count).await == "1").then_some(())
    })
    .await;
    assert!(voter.still_marked().await, "the feed was reloaded");
    assert_eq!(voter.path().await, "/app/feed");
    let (_, v) = app.get(&format!("/reports/{id}"), None).await;
    assert_eq!(v["data"]["vote_count"], 1, "{v}");
    // A second vote is refused in place, with a message, and counts nothing.
    voter.click(&format!("[data-upvote='{id}']")).await;
    voter.wait_for(".vote-error").await;
    assert!(!voter.text(".vote-error").await.is_empty());
    assert_eq!(voter.text(&count).await, "1");
    assert!(voter.still_marked().await);
    voter.screenshot("feed").await;

    voter.goto("/app/map").await;
    voter.wait_for("#map .leaflet-marker-icon").await;
    assert_eq!(voter.text("[data-testid=map-count]").await, "1");
    voter.screenshot("map").await;

    // The feed and the report form on a phone (390 px), in Indonesian: no
    // sideways scrolling.
    let phone = driver.phone(&app.base).await;
    phone.login("citizen3", "password").await;
    for (path, name) in [
        ("/app/feed", "feed_mobile"),
        ("/app/reports/new", "report_new_mobile"),
    ] {
        phone.goto(path).await;
        phone.wait_for("main h1").await;
        let widths = phone
            .js("return [document.documentElement.scrollWidth, window.innerWidth];")
            .await;
        assert_eq!(widths[1], 390, "phone viewport");
        assert!(
            widths[0].as_u64() <= widths[1].as_u64(),
            "{path} scrolls sideways on a phone: {widths}"
        );
        phone.screenshot(name).await;
    }

    for b in [citizen, officer, other, voter, phone] {
        b.close().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_anonymous_report_shows_no_trace_of_its_reporter_to_staff() {
    let Some(driver) = Driver::start().await else {
        return;
    };
    let app = TestApp::spawn().await;
    let (citizen, officer) = tokio::join!(driver.browser(&app.base), driver.browser(&app.base));
    officer.login("officer1", "password").await;
    officer.mark().await;

    let username = unique("rahasia");
    register(&citizen, &username).await;
    let (_, user_id) = api_login(&app, &username, PASSWORD).await;
    let title = "Lampu jalan mati di gang sempit";
    fill_report(&citizen, title, "ANONYMOUS", "infrastruktur").await;
    let id = submit_report(&citizen).await;

    // The officer's inbox gets it live; neither it nor the case page names
    // the reporter.
    let row = format!("tr[data-testid=inbox-row][data-report-id='{id}']");
    officer.wait_for(&row).await;
    assert!(officer.still_marked().await);
    let traces = |page: &str| {
        let mut found = vec![];
        if page.contains(&username) {
            found.push("username");
        }
        if page.contains(&user_id) || page.contains(&user_id.replace('-', "")) {
            found.push("user id");
        }
        found
    };
    let inbox = officer.source().await;
    assert!(inbox.contains(title));
    assert_eq!(
        traces(&inbox),
        Vec::<&str>::new(),
        "the inbox shows the reporter"
    );
    let (s, fragment) = {
        // The rows the live refresh fetches, as the officer's browser gets them.
        let v = officer
            .js("return fetch('/app/inbox?fragment=1', {credentials: 'same-origin'}).then(function (r) { return r.text().then(function (t) { return [r.status, t]; }); });")
            .await;
        (v[0].as_u64().unwrap(), v[1].as_str().unwrap().to_owned())
    };
    assert_eq!(s, 200);
    assert!(fragment.contains(&id));
    assert_eq!(
        traces(&fragment),
        Vec::<&str>::new(),
        "the inbox rows show the reporter"
    );

    officer.goto(&format!("/app/cases/{id}")).await;
    officer.wait_for("[data-testid=case-detail]").await;
    let case = officer.source().await;
    assert!(case.contains(title));
    assert_eq!(
        traces(&case),
        Vec::<&str>::new(),
        "the case page shows the reporter"
    );
    // The reporter still sees it as theirs.
    citizen.goto("/app/reports/mine").await;
    citizen
        .wait_for(&format!("[data-testid=my-report][data-report-id='{id}']"))
        .await;

    citizen.close().await;
    officer.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn supervisors_see_escalations_and_performance() {
    let Some(driver) = Driver::start().await else {
        return;
    };
    let app = TestApp::spawn().await;
    let (admin, supervisor) = tokio::join!(driver.browser(&app.base), driver.browser(&app.base));

    // The city head sets a 2-second SLA for infrastructure on the SLA page.
    admin.login("admin", "password").await;
    admin.goto("/app/sla").await;
    admin.wait_for("[data-testid=sla-table]").await;
    admin.fill("#h-infrastruktur", "0.0005").await;
    admin.submit("form:has(#h-infrastruktur)").await;
    assert!(admin.find("[data-testid=form-error]").await.is_none());
    let (_, cfg) = app.get("/sla/config", None).await;
    eprintln!("sla config: {cfg}");
    admin.screenshot("sla").await;
    admin.goto("/app/admin").await;
    admin.wait_for("[data-testid=staff]").await;
    admin.screenshot("admin").await;

    // Two reports: one is answered in time, the other is not.
    let citizen = app.login("citizen1").await;
    let officer = app.login("officer1").await;
    let late = app
        .create_report(&citizen, "Trotoar amblas", "PUBLIC", "infrastruktur")
        .await;
    let handled = app
        .create_report(&citizen, "Got tersumbat", "PUBLIC", "infrastruktur")
        .await;
    app.eventually("the case is opened", || async {
        let (s, _) = app
            .patch(
                &format!("/cases/{handled}/status"),
                Some(&officer),
                json!({"status": "IN_PROGRESS"}),
            )
            .await;
        (s == StatusCode::OK).then_some(())
    })
    .await;

    supervisor.login("supervisor1", "password").await;
    assert_eq!(supervisor.path().await, "/app/escalations");
    let row = format!("[data-testid=escalation-row][data-report-id='{late}']");
    eventually("the late case on the escalations page", || async {
        supervisor.goto("/app/escalations").await;
        supervisor.find(&row).await
    })
    .await;
    assert!(supervisor.text(&row).await.contains("Trotoar amblas"));
    supervisor.screenshot("escalations").await;

    supervisor.goto("/app/performance").await;
    supervisor.wait_for("[data-testid=kpis]").await;
    let charts = supervisor.find_all("svg.chart").await;
    assert!(!charts.is_empty(), "no chart on the performance page");
    let agency_rows = supervisor.find_all("[data-testid=agency-row]").await;
    let mut texts = vec![];
    for r in &agency_rows {
        texts.push(r.text().await.unwrap_or_default());
    }
    assert!(
        texts.iter().any(|t| t.contains("Dinas Infrastruktur")),
        "no row for the agency: {texts:?}"
    );
    let cases: i64 = supervisor
        .text("[data-testid=kpi-cases]")
        .await
        .trim()
        .parse()
        .unwrap_or(-1);
    assert!(cases >= 2, "KPI cases: {cases}");
    check_page(&supervisor, "performance").await;
    supervisor.screenshot("performance").await;

    admin.close().await;
    supervisor.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_uploads_are_refused_clearly_and_store_nothing() {
    let Some(driver) = Driver::start().await else {
        return;
    };
    const MAX: usize = 64 * 1024;
    let app = TestApp::spawn_with(|a| a.max_photo_bytes = MAX, false).await;
    let files = tempfile::tempdir().unwrap();
    let b = driver.browser(&app.base).await;
    b.login("citizen1", "password").await;
    let token = app.login("citizen1").await;

    let not_an_image = temp_file(
        files.path(),
        "catatan.jpg",
        b"Ini bukan foto, hanya catatan teks.\n",
    );
    // A real JPEG, too big for this server.
    let big = (1..)
        .map(|k| jpeg(400 * k, 300 * k))
        .find(|j| j.len() > MAX)
        .unwrap();
    assert!(big.len() < 4 * MAX, "{} B", big.len());
    let too_big = temp_file(files.path(), "besar.jpg", &big);

    for (file, name, expected) in [
        (&not_an_image, "upload_not_image", "not a supported image"),
        (&too_big, "upload_too_big", "64 KB"),
    ] {
        b.goto("/app/reports/new").await;
        fill_report(&b, "Foto bermasalah", "PUBLIC", "kebersihan").await;
        b.wait_for("#photos")
            .await
            .send_keys(file.to_str().unwrap())
            .await
            .expect("attach");
        b.submit("#new-report").await;
        // The form again, with the reason and what was typed.
        let message = b.text("[data-testid=form-error]").await;
        eprintln!("{name}: {message}");
        assert!(message.contains(expected), "an unclear error: {message:?}");
        assert!(b.find("[data-testid=created]").await.is_none());
        assert_eq!(
            b.find("#title")
                .await
                .unwrap()
                .prop("value")
                .await
                .unwrap()
                .as_deref(),
            Some("Foto bermasalah"),
            "the form lost what was typed"
        );
        b.screenshot(name).await;
    }
    // The layout-shift probe is not vacuous: content pushed down after the
    // first paint is measured.
    b.goto("/app/feed").await;
    b.js("return new Promise(function (done) { requestAnimationFrame(function () { setTimeout(function () {\
            var d = document.createElement('div'); d.style.height = '400px';\
            document.querySelector('main').prepend(d); setTimeout(done, 200); }, 100); }); });")
        .await;
    let cls = b.layout_shift().await;
    assert!(
        cls > MAX_LAYOUT_SHIFT,
        "an injected shift was not measured: {cls}"
    );

    // Nothing was stored: no report, no file.
    app.settle().await;
    let (s, v) = app.get("/reports/me", Some(&token)).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["data"], Value::Array(vec![]), "a report was stored: {v}");
    assert_eq!(app.stored_photos(), Vec::<std::path::PathBuf>::new());
    b.close().await;
}
