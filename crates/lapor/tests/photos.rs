//! Photos of reports over HTTP: the owner uploads (multipart) while the
//! report is RECEIVED, at most five; every stored picture is a re-encoded
//! JPEG without EXIF, GPS or camera data; non-images and oversized files are
//! refused with a clear error and leave nothing behind; the files answer to
//! exactly those who may see the report.

mod common;

use common::TestApp;
use lapor_media::testing::{contains, has_app1, jpeg, jpeg_with_gps, png};
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

/// Jakarta, Monas.
const LAT: f64 = -6.175392;
const LON: f64 = 106.827153;

/// Uploads `files` (name, bytes, content type) as parts named `photo`.
async fn upload(
    app: &TestApp,
    token: Option<&str>,
    report: &str,
    files: Vec<(&str, Vec<u8>, &str)>,
) -> (StatusCode, Value) {
    let mut form = Form::new();
    for (name, bytes, mime) in files {
        form = form.part(
            "photo",
            Part::bytes(bytes)
                .file_name(name.to_owned())
                .mime_str(mime)
                .unwrap(),
        );
    }
    upload_form(app, token, report, form).await
}

async fn upload_form(
    app: &TestApp,
    token: Option<&str>,
    report: &str,
    form: Form,
) -> (StatusCode, Value) {
    let mut req = app
        .http
        .post(format!("{}/reports/{report}/photos", app.base))
        .multipart(form);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let res = req.send().await.expect("sent");
    let status = res.status();
    let text = res.text().await.unwrap();
    let v = serde_json::from_str(&text)
        .unwrap_or_else(|_| panic!("upload answered non-JSON ({status}): {text}"));
    (status, v)
}

async fn upload_one(
    app: &TestApp,
    token: &str,
    report: &str,
    bytes: Vec<u8>,
) -> (StatusCode, Value) {
    upload(
        app,
        Some(token),
        report,
        vec![("photo.jpg", bytes, "image/jpeg")],
    )
    .await
}

/// GETs a path and returns status, headers and the raw body.
async fn fetch(app: &TestApp, path: &str, token: Option<&str>) -> (StatusCode, HeaderMap, Vec<u8>) {
    let mut req = app.http.get(format!("{}{path}", app.base));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let res = req.send().await.expect("sent");
    let status = res.status();
    let headers = res.headers().clone();
    (status, headers, res.bytes().await.unwrap().to_vec())
}

fn decode(bytes: &[u8]) -> image::DynamicImage {
    image::load_from_memory_with_format(bytes, image::ImageFormat::Jpeg)
        .expect("the response is a JPEG")
}

/// No EXIF (nor XMP) segment, no camera name, no GPS position.
fn assert_no_metadata(bytes: &[u8]) {
    assert!(!has_app1(bytes), "an APP1 (EXIF/XMP) segment is left");
    assert!(!contains(bytes, b"Exif"), "an Exif marker is left");
    assert!(!contains(bytes, b"LaporCam"), "the camera make is left");
    assert!(!contains(bytes, b"Whistle"), "the camera model is left");
    let again = lapor_media::sanitize(bytes).expect("still a valid image");
    assert_eq!(again.gps, None, "a GPS position is left");
}

/// The report's photos as the read side shows them to `token`.
async fn photos_of(app: &TestApp, report: &str, token: Option<&str>) -> Vec<Value> {
    let (s, v) = app.get(&format!("/reports/{report}"), token).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v["data"]["photos"]
        .as_array()
        .expect("photos array")
        .clone()
}

#[tokio::test]
async fn a_photo_with_gps_is_stored_and_served_without_any_metadata() {
    let app = TestApp::spawn().await;
    let owner = app.login("citizen1").await;
    let report = app
        .create_report(
            &owner,
            "Jalan berlubang dekat Monas",
            "PUBLIC",
            "infrastruktur",
        )
        .await;

    let original = jpeg_with_gps(800, 600, LAT, LON);
    assert!(has_app1(&original) && contains(&original, b"LaporCam"));
    let (s, v) = upload_one(&app, &owner, &report, original).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["success"], true);
    let data = v["data"].as_array().unwrap();
    assert_eq!(data.len(), 1);
    let photo = data[0]["id"].as_str().unwrap().to_owned();
    let url = data[0]["url"].as_str().unwrap().to_owned();
    let thumb_url = data[0]["thumb_url"].as_str().unwrap().to_owned();
    assert_eq!(url, format!("/reports/{report}/photos/{photo}"));
    assert_eq!(thumb_url, format!("{url}/thumb"));

    // The photo, served to anyone (the report is PUBLIC).
    let (s, h, image) = fetch(&app, &url, None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(h["content-type"], "image/jpeg");
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert!(
        h["cache-control"]
            .to_str()
            .unwrap()
            .contains("max-age=3600")
    );
    let img = decode(&image);
    assert_eq!((img.width(), img.height()), (800, 600));
    assert_no_metadata(&image);

    // The thumbnail is smaller, and clean too.
    let (s, h, thumb) = fetch(&app, &thumb_url, Some(&owner)).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(h["content-type"], "image/jpeg");
    let t = decode(&thumb);
    assert!(
        t.width() <= 320 && t.height() <= 320,
        "{}x{}",
        t.width(),
        t.height()
    );
    assert!(thumb.len() < image.len());
    assert_no_metadata(&thumb);

    // On disk: the same clean files, owner-only.
    let files = app.stored_photos();
    assert_eq!(files.len(), 2, "{files:?}");
    for f in &files {
        assert_no_metadata(&std::fs::read(f).unwrap());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(f).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{}", f.display());
        }
    }

    // The report shows the photo, alone and in listings.
    let shown = app
        .eventually("the photo projected", || async {
            let p = photos_of(&app, &report, None).await;
            (!p.is_empty()).then_some(p)
        })
        .await;
    assert_eq!(
        shown,
        vec![json!({"id": photo, "url": url, "thumb_url": thumb_url})]
    );
    let listed = app.wait_listed("/reports/public", None, &report).await;
    assert_eq!(listed["photos"][0]["thumb_url"], thumb_url.as_str());
    let (_, mine) = app.get("/reports/me", Some(&owner)).await;
    let mine = mine["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["report_id"] == report.as_str())
        .cloned()
        .unwrap();
    assert_eq!(mine["photos"].as_array().unwrap().len(), 1);

    // The position the photo carried was not shared.
    let (_, v) = app.get(&format!("/reports/{report}"), None).await;
    assert!(v["data"]["location"].is_null(), "{v}");

    // Malformed ids and photos of other reports are refused.
    let (s, _, _) = fetch(&app, &format!("/reports/{report}/photos/not-a-uuid"), None).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let other = app
        .create_report(&owner, "Lampu mati", "PUBLIC", "infrastruktur")
        .await;
    app.wait_listed("/reports/public", None, &other).await;
    let (s, _, _) = fetch(&app, &format!("/reports/{other}/photos/{photo}"), None).await;
    assert_eq!(
        s,
        StatusCode::NOT_FOUND,
        "a photo is only served under its own report"
    );
    let (s, _, _) = fetch(
        &app,
        &format!("/reports/{report}/photos/{}", uuid::Uuid::now_v7()),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn private_report_photos_follow_the_reports_visibility() {
    let app = TestApp::spawn().await;
    let owner = app.login("citizen1").await;
    let other = app.login("citizen2").await;
    let officer = app.login("officer1").await; // AGENCY_INFRA: responsible
    let elsewhere = app.login("officer2").await; // AGENCY_HEALTH
    let admin = app.login("admin").await;
    let report = app
        .create_report(&owner, "Saluran air tersumbat", "PRIVATE", "infrastruktur")
        .await;

    // Only the owner adds photos; others get 403 (staff who see it) or 404.
    let (s, v) = upload_one(&app, &officer, &report, jpeg(64, 64)).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    assert!(v["error"].as_str().unwrap().contains("reporter"), "{v}");
    let (s, _) = upload_one(&app, &other, &report, jpeg(64, 64)).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = upload(
        &app,
        None,
        &report,
        vec![("a.jpg", jpeg(64, 64), "image/jpeg")],
    )
    .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);

    let (s, v) = upload(
        &app,
        Some(&owner),
        &report,
        vec![("p.png", png(400, 300), "image/png")],
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let url = v["data"][0]["url"].as_str().unwrap().to_owned();
    let thumb_url = v["data"][0]["thumb_url"].as_str().unwrap().to_owned();

    for (who, token) in [
        ("owner", &owner),
        ("responsible officer", &officer),
        ("city head", &admin),
    ] {
        for path in [&url, &thumb_url] {
            let (s, h, body) = fetch(&app, path, Some(token)).await;
            assert_eq!(s, StatusCode::OK, "{who} {path}");
            assert!(
                h["cache-control"].to_str().unwrap().starts_with("private"),
                "{who}"
            );
            decode(&body);
        }
    }
    for (who, token) in [
        ("another citizen", Some(&other)),
        ("another agency's officer", Some(&elsewhere)),
        ("nobody", None),
    ] {
        for path in [&url, &thumb_url] {
            let (s, _, body) = fetch(&app, path, token.map(|t| t.as_str())).await;
            assert!(
                s == StatusCode::NOT_FOUND || s == StatusCode::FORBIDDEN,
                "{who} got {s} for {path}"
            );
            assert!(
                image::load_from_memory(&body).is_err(),
                "{who} got image bytes"
            );
        }
    }

    // Once the agency works the case, the report (and its photos) is frozen.
    app.wait_listed("/cases/inbox", Some(&officer), &report)
        .await;
    let (s, v) = app
        .patch(
            &format!("/cases/{report}/status"),
            Some(&officer),
            json!({"status": "IN_PROGRESS"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, v) = upload_one(&app, &owner, &report, jpeg(64, 64)).await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    assert!(v["error"].as_str().unwrap().contains("RECEIVED"), "{v}");
}

#[tokio::test]
async fn non_images_and_oversized_files_are_refused_and_nothing_is_stored() {
    let app = TestApp::spawn_with(|a| a.max_photo_bytes = 64 * 1024, false).await;
    let owner = app.login("citizen1").await;
    let report = app
        .create_report(&owner, "Sampah menumpuk", "PUBLIC", "kebersihan")
        .await;

    // Text, whatever it claims to be.
    let (s, v) = upload(
        &app,
        Some(&owner),
        &report,
        vec![(
            "photo.jpg",
            b"this is not a picture at all".to_vec(),
            "image/jpeg",
        )],
    )
    .await;
    assert_eq!(s, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{v}");
    assert_eq!(v["success"], false);
    let msg = v["error"].as_str().unwrap();
    assert!(
        msg.contains("JPEG") && msg.contains("PNG") && msg.contains("WebP"),
        "{msg}"
    );

    // One bad file fails the whole upload: the good one is not kept either.
    let (s, v) = upload(
        &app,
        Some(&owner),
        &report,
        vec![
            ("good.jpg", jpeg(64, 64), "image/jpeg"),
            ("notes.txt", b"GIF89a but not really".to_vec(), "text/plain"),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{v}");
    assert!(v["error"].as_str().unwrap().contains("photo 2 of 2"), "{v}");

    // A damaged JPEG.
    let full = jpeg(200, 200);
    let (s, v) = upload_one(&app, &owner, &report, full[..full.len() / 2].to_vec()).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    assert!(v["error"].as_str().unwrap().contains("damaged"), "{v}");

    // Over the size limit (64 KiB here): refused before decoding.
    let mut big = jpeg(64, 64);
    big.resize(70 * 1024, 0);
    let (s, v) = upload_one(&app, &owner, &report, big).await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE, "{v}");
    assert!(v["error"].as_str().unwrap().contains("64 KiB"), "{v}");

    // Not a multipart form at all.
    let (s, v) = app
        .post(
            &format!("/reports/{report}/photos"),
            Some(&owner),
            json!({"photo": "x"}),
        )
        .await;
    assert_eq!(s, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{v}");
    // An empty form.
    let (s, v) = upload(&app, Some(&owner), &report, vec![]).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");

    // Nothing was stored: no file, no photo on the report.
    assert_eq!(app.stored_photos(), Vec::<std::path::PathBuf>::new());
    app.settle().await;
    assert!(photos_of(&app, &report, Some(&owner)).await.is_empty());

    // A photo within the limit is still accepted.
    let (s, v) = upload_one(&app, &owner, &report, jpeg(64, 64)).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(app.stored_photos().len(), 2);
}

#[tokio::test]
async fn a_report_takes_at_most_five_photos() {
    let app = TestApp::spawn().await;
    let owner = app.login("citizen1").await;
    let report = app
        .create_report(&owner, "Pohon tumbang", "PUBLIC", "infrastruktur")
        .await;

    let files = |n: usize| -> Vec<(&'static str, Vec<u8>, &'static str)> {
        (0..n)
            .map(|_| ("p.jpg", jpeg(96, 64), "image/jpeg"))
            .collect()
    };
    let (s, v) = upload(&app, Some(&owner), &report, files(6)).await;
    assert_eq!(s, StatusCode::CONFLICT, "six in one upload: {v}");
    let (s, v) = upload(&app, Some(&owner), &report, files(3)).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let (s, v) = upload(&app, Some(&owner), &report, files(3)).await;
    assert_eq!(s, StatusCode::CONFLICT, "3 + 3: {v}");
    assert!(v["error"].as_str().unwrap().contains("at most 5"), "{v}");
    let (s, v) = upload(&app, Some(&owner), &report, files(2)).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let (s, v) = upload_one(&app, &owner, &report, jpeg(96, 64)).await;
    assert_eq!(s, StatusCode::CONFLICT, "the sixth photo: {v}");
    assert!(v["error"].as_str().unwrap().contains("at most 5"), "{v}");

    assert_eq!(
        app.stored_photos().len(),
        10,
        "five photos and their thumbnails"
    );
    let shown = app
        .eventually("five photos projected", || async {
            let p = photos_of(&app, &report, None).await;
            (p.len() == 5).then_some(p)
        })
        .await;
    // Oldest first.
    let ids: Vec<&str> = shown.iter().map(|p| p["id"].as_str().unwrap()).collect();
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(ids, sorted);
}

#[tokio::test]
async fn anonymous_report_photos_carry_no_trace_of_the_reporter() {
    let app = TestApp::spawn().await;
    let owner = app.login("citizen1").await;
    let user_id = app.user_id(&owner).await;
    let officer = app.login("officer1").await;
    let report = app
        .create_report(&owner, "Pungli di kantor kelurahan", "ANONYMOUS", "lainnya")
        .await;

    let (s, text) = {
        let form = Form::new().part(
            "photo",
            Part::bytes(jpeg_with_gps(640, 480, LAT, LON))
                .file_name("citizen1-IMG_0001.jpg")
                .mime_str("image/jpeg")
                .unwrap(),
        );
        let res = app
            .http
            .post(format!("{}/reports/{report}/photos", app.base))
            .bearer_auth(&owner)
            .multipart(form)
            .send()
            .await
            .unwrap();
        (res.status(), res.text().await.unwrap())
    };
    assert_eq!(s, StatusCode::CREATED, "{text}");
    for trace in [
        user_id.as_str(),
        "citizen1",
        "IMG_0001",
        "reporter",
        "lat",
        "6.17",
    ] {
        assert!(
            !text.contains(trace),
            "the upload response has '{trace}': {text}"
        );
    }
    let v: Value = serde_json::from_str(&text).unwrap();
    let url = v["data"][0]["url"].as_str().unwrap().to_owned();

    // The responsible agency sees the photo; it names nobody.
    for token in [&officer, &owner] {
        let (s, h, bytes) = fetch(&app, &url, Some(token)).await;
        assert_eq!(s, StatusCode::OK);
        assert_no_metadata(&bytes);
        for trace in [user_id.as_bytes(), b"citizen1", b"IMG_0001"] {
            assert!(!contains(&bytes, trace));
        }
        for (name, value) in &h {
            let value = value.to_str().unwrap_or_default();
            assert!(
                !value.contains(&user_id) && !value.contains("citizen1"),
                "{name}: {value}"
            );
        }
    }
    // On disk: stored by report and photo id only.
    for f in app.stored_photos() {
        let path = f.to_string_lossy().into_owned();
        assert!(
            !path.contains(&user_id) && !path.contains("citizen1") && !path.contains("IMG"),
            "{path}"
        );
    }
    let (_, text) = app
        .send_raw(
            reqwest::Method::GET,
            &format!("/reports/{report}"),
            Some(&officer),
            None,
        )
        .await;
    assert!(!text.contains(&user_id), "{text}");
}

#[tokio::test]
async fn a_photos_location_is_kept_only_when_the_reporter_shares_it() {
    let app = TestApp::spawn().await;
    let owner = app.login("citizen1").await;
    let report = app
        .create_report(&owner, "Banjir di underpass", "ANONYMOUS", "infrastruktur")
        .await;
    let form = |share: &str| {
        Form::new()
            .part(
                "photo",
                Part::bytes(jpeg_with_gps(320, 240, LAT, LON))
                    .file_name("a.jpg")
                    .mime_str("image/jpeg")
                    .unwrap(),
            )
            .text("share_location", share.to_owned())
    };
    let (s, v) = upload_form(&app, Some(&owner), &report, form("maybe")).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");

    let (s, v) = upload_form(&app, Some(&owner), &report, form("true")).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["location_set_from_photo"], true, "{v}");
    let location = app
        .eventually("the location projected", || async {
            let (_, v) = app.get(&format!("/reports/{report}"), Some(&owner)).await;
            let l = v["data"]["location"].clone();
            (!l.is_null()).then_some(l)
        })
        .await;
    assert!(
        (location["lat"].as_f64().unwrap() - LAT).abs() < 1e-5,
        "{location}"
    );
    assert!(
        (location["lon"].as_f64().unwrap() - LON).abs() < 1e-5,
        "{location}"
    );
    // The report has the position; the picture still has none.
    let url = v["data"][0]["url"].as_str().unwrap().to_owned();
    let (_, _, bytes) = fetch(&app, &url, Some(&owner)).await;
    assert_no_metadata(&bytes);

    // An explicit location is never overwritten.
    let (s, v) = app
        .post(
            "/reports",
            Some(&owner),
            json!({"content": "Got tertutup", "category": "infrastruktur", "lat": -6.2, "lon": 106.8}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let placed = v["report_id"].as_str().unwrap().to_owned();
    let (s, v) = upload_form(&app, Some(&owner), &placed, form("true")).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["location_set_from_photo"], false, "{v}");
    app.settle().await;
    let (_, v) = app.get(&format!("/reports/{placed}"), Some(&owner)).await;
    assert_eq!(v["data"]["location"]["lat"], -6.2);
}

#[tokio::test]
async fn photos_survive_a_rebuild_of_the_read_models() {
    let app = TestApp::spawn().await;
    let owner = app.login("citizen1").await;
    let report = app
        .create_report(&owner, "Trotoar amblas", "PRIVATE", "infrastruktur")
        .await;
    let (s, v) = upload(
        &app,
        Some(&owner),
        &report,
        vec![
            ("a.jpg", jpeg(120, 90), "image/jpeg"),
            ("b.png", png(90, 120), "image/png"),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    app.settle().await;
    let before = photos_of(&app, &report, Some(&owner)).await;
    assert_eq!(before.len(), 2);

    let mut app = app;
    app.stop().await;
    lapor::server::rebuild_projections(&app.engine_args())
        .await
        .unwrap();
    let app = app.restart().await;
    let owner = app.login("citizen1").await;
    app.settle().await;
    assert_eq!(photos_of(&app, &report, Some(&owner)).await, before);
    let url = before[1]["url"].as_str().unwrap();
    let (s, _, bytes) = fetch(&app, url, Some(&owner)).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(decode(&bytes).width(), 90);
}
