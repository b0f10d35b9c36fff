//! Indonesian and English. Every user-visible string of the web app is a
//! key in [`STRINGS`]; a unit test checks that every key a template uses
//! exists, so a missing translation fails the build's tests rather than
//! showing a key to a user.

use axum::http::{HeaderMap, header};
use std::collections::HashMap;
use std::sync::LazyLock;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Id,
    En,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::Id => "id",
            Lang::En => "en",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "id" => Some(Lang::Id),
            "en" => Some(Lang::En),
            _ => None,
        }
    }
    /// The first of our languages the browser asks for; Indonesian when
    /// it asks for neither (the city's language).
    pub fn from_accept(headers: &HeaderMap) -> Self {
        let Some(v) = headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
        else {
            return Lang::Id;
        };
        for part in v.split(',') {
            let tag = part
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase();
            if tag.starts_with("id") || tag.starts_with("in") {
                return Lang::Id;
            }
            if tag.starts_with("en") {
                return Lang::En;
            }
        }
        Lang::Id
    }
    /// The string for `key`, if there is one (for keys built from data,
    /// such as a translated parameter value).
    pub fn get(self, key: &str) -> Option<&'static str> {
        TABLE.get(key).map(|(en, id)| match self {
            Lang::En => *en,
            Lang::Id => *id,
        })
    }
    /// The string for `key`; an ellipsis if it is missing (tests make sure
    /// that never happens for keys in templates).
    pub fn s(self, key: &str) -> &'static str {
        match TABLE.get(key) {
            Some((en, id)) => match self {
                Lang::En => en,
                Lang::Id => id,
            },
            None => {
                tracing::warn!(key, "missing translation");
                "…"
            }
        }
    }
}

static TABLE: LazyLock<HashMap<&'static str, (&'static str, &'static str)>> =
    LazyLock::new(|| STRINGS.iter().map(|(k, en, id)| (*k, (*en, *id))).collect());

/// (key, English, Indonesian)
pub const STRINGS: &[(&str, &str, &str)] = &[
    ("skip", "Skip to content", "Lompat ke isi"),
    ("nav.main", "Main navigation", "Navigasi utama"),
    ("nav.feed", "Public reports", "Laporan publik"),
    ("nav.map", "Map", "Peta"),
    ("nav.new", "New report", "Laporan baru"),
    ("nav.mine", "My reports", "Laporan saya"),
    ("nav.inbox", "Inbox", "Kotak masuk"),
    ("nav.escalations", "Escalations", "Eskalasi"),
    ("nav.performance", "Performance", "Kinerja"),
    ("nav.sla", "SLA", "SLA"),
    ("nav.admin", "Administration", "Administrasi"),
    ("nav.notifications", "Notifications", "Notifikasi"),
    ("nav.login", "Log in", "Masuk"),
    ("nav.logout", "Log out", "Keluar"),
    ("nav.register", "Register", "Daftar"),
    ("lang.choose", "Language", "Bahasa"),
    ("role.citizen", "Citizen", "Warga"),
    ("role.officer", "Officer", "Petugas"),
    ("role.supervisor", "Supervisor", "Supervisor"),
    ("role.admin", "City head", "Kepala daerah"),
    ("status.RECEIVED", "Received", "Diterima"),
    ("status.IN_PROGRESS", "In progress", "Diproses"),
    ("status.RESOLVED", "Resolved", "Selesai"),
    ("status.REJECTED", "Rejected", "Ditolak"),
    ("vis.PUBLIC", "Public", "Publik"),
    ("vis.PRIVATE", "Private", "Privat"),
    ("vis.ANONYMOUS", "Anonymous", "Anonim"),
    (
        "vis.PUBLIC.help",
        "everyone can read it and upvote it; your username is shown only to the agency.",
        "semua orang dapat membaca dan mendukungnya; nama pengguna Anda hanya terlihat oleh instansi.",
    ),
    (
        "vis.PRIVATE.help",
        "only you and the responsible agency can see it.",
        "hanya Anda dan instansi yang bertanggung jawab yang dapat melihatnya.",
    ),
    (
        "vis.ANONYMOUS.help",
        "only the agency sees it, and nobody, not even the agency, can tell it came from you.",
        "hanya instansi yang melihatnya, dan tidak seorang pun, termasuk instansi, dapat mengetahui bahwa laporan ini dari Anda.",
    ),
    ("sort.newest", "Newest", "Terbaru"),
    ("sort.oldest", "Oldest", "Terlama"),
    ("sort.upvotes", "Most upvoted", "Dukungan terbanyak"),
    ("sort.sla_due", "SLA due first", "Tenggat SLA terdekat"),
    (
        "field.address",
        "Address or landmark",
        "Alamat atau patokan",
    ),
    ("field.age", "Age", "Umur"),
    ("field.agency", "Agency", "Instansi"),
    ("field.category", "Category", "Kategori"),
    ("field.content", "What is the problem?", "Apa masalahnya?"),
    ("field.lat", "Latitude", "Lintang"),
    ("field.lon", "Longitude", "Bujur"),
    ("field.location", "Location", "Lokasi"),
    ("field.optional", "optional", "opsional"),
    ("field.photos", "Photos", "Foto"),
    ("field.report", "Report", "Laporan"),
    ("field.status", "Status", "Status"),
    ("field.title", "Title", "Judul"),
    (
        "field.visibility",
        "Who may see it?",
        "Siapa yang boleh melihat?",
    ),
    ("filter.all", "All", "Semua"),
    ("filter.apply", "Apply", "Terapkan"),
    ("page.next", "Next", "Berikutnya"),
    ("page.prev", "Previous", "Sebelumnya"),
    (
        "error.title",
        "Something is not right",
        "Ada yang tidak beres",
    ),
    (
        "error.csrf",
        "This form has expired or came from another site. Reload the page and try again.",
        "Formulir ini kedaluwarsa atau berasal dari situs lain. Muat ulang halaman lalu coba lagi.",
    ),
    ("error.home", "Back to Lapor", "Kembali ke Lapor"),
    (
        "error.managers_only",
        "Only supervisors and the city head can open this page.",
        "Hanya supervisor dan kepala daerah yang dapat membuka halaman ini.",
    ),
    ("error.not_found", "Not found.", "Tidak ditemukan."),
    ("login.title", "Log in", "Masuk"),
    ("login.username", "Username", "Nama pengguna"),
    ("login.password", "Password", "Kata sandi"),
    ("login.submit", "Log in", "Masuk"),
    (
        "login.failed",
        "Wrong username or password.",
        "Nama pengguna atau kata sandi salah.",
    ),
    (
        "login.no_account",
        "No account yet? Register",
        "Belum punya akun? Daftar",
    ),
    ("register.title", "Create an account", "Buat akun"),
    ("register.submit", "Register", "Daftar"),
    (
        "register.taken",
        "That username is taken.",
        "Nama pengguna itu sudah dipakai.",
    ),
    (
        "register.username_help",
        "3 to 32 letters, digits, dots, dashes or underscores.",
        "3 sampai 32 huruf, angka, titik, tanda hubung atau garis bawah.",
    ),
    (
        "register.password_help",
        "At least 8 characters. It also protects your anonymous reports.",
        "Minimal 8 karakter. Kata sandi ini juga melindungi laporan anonim Anda.",
    ),
    (
        "register.have_account",
        "Already registered? Log in",
        "Sudah terdaftar? Masuk",
    ),
    ("feed.title", "Public reports", "Laporan publik"),
    ("feed.search", "Search", "Cari"),
    ("feed.sort", "Sort", "Urutkan"),
    ("feed.newest", "Newest", "Terbaru"),
    ("feed.top", "Most upvoted", "Dukungan terbanyak"),
    (
        "feed.empty",
        "No reports match.",
        "Tidak ada laporan yang cocok.",
    ),
    ("feed.more", "More", "Lebih banyak"),
    ("feed.upvote", "Upvote", "Dukung"),
    ("feed.votes", "Upvotes", "Dukungan"),
    (
        "feed.login_to_vote",
        "Log in to upvote",
        "Masuk untuk mendukung",
    ),
    ("map.title", "Map of public reports", "Peta laporan publik"),
    ("map.count", "Reports on the map", "Laporan di peta"),
    (
        "map.help",
        "Only public reports with a location are shown. Without a configured map server the background stays plain.",
        "Hanya laporan publik berlokasi yang ditampilkan. Tanpa server peta, latar peta tetap polos.",
    ),
    ("new.title", "New report", "Laporan baru"),
    (
        "new.fix",
        "Please fix the following:",
        "Mohon perbaiki hal berikut:",
    ),
    ("new.pick_category", "Choose a category…", "Pilih kategori…"),
    (
        "new.category_help",
        "The report goes only to the agency shown after the arrow.",
        "Laporan hanya dikirim ke instansi yang tertera setelah tanda panah.",
    ),
    (
        "new.location_help",
        "Tap the map to set the point, or type coordinates; an address alone is kept with the text.",
        "Ketuk peta untuk menandai titik, atau ketik koordinat; alamat saja disimpan bersama teks laporan.",
    ),
    (
        "new.map_label",
        "Map: tap to choose the location",
        "Peta: ketuk untuk memilih lokasi",
    ),
    (
        "new.photos_help",
        "JPEG, PNG or WebP. Location and camera details are removed from every photo. At most",
        "JPEG, PNG atau WebP. Data lokasi dan kamera dihapus dari setiap foto. Paling banyak",
    ),
    (
        "new.use_photo_location",
        "Use the location stored in my photo if I did not pick one (never for anonymous reports)",
        "Gunakan lokasi dari foto saya jika saya tidak memilih titik (tidak pernah untuk laporan anonim)",
    ),
    ("new.submit", "Send report", "Kirim laporan"),
    (
        "new.bad_form",
        "The form could not be read",
        "Formulir tidak dapat dibaca",
    ),
    (
        "new.photo_too_big",
        "A photo is too large; the limit is",
        "Foto terlalu besar; batasnya",
    ),
    (
        "new.too_many_photos",
        "Too many photos; the limit is",
        "Terlalu banyak foto; batasnya",
    ),
    (
        "new.pick_visibility",
        "Choose who may see the report.",
        "Pilih siapa yang boleh melihat laporan.",
    ),
    (
        "new.bad_location",
        "Latitude and longitude must be numbers.",
        "Lintang dan bujur harus berupa angka.",
    ),
    ("new.photo_refused", "Photo refused", "Foto ditolak"),
    ("mine.title", "My reports", "Laporan saya"),
    (
        "mine.empty",
        "You have not filed a report yet.",
        "Anda belum membuat laporan.",
    ),
    ("report.title", "Report", "Laporan"),
    (
        "report.created",
        "Your report was sent to the responsible agency.",
        "Laporan Anda telah dikirim ke instansi yang bertanggung jawab.",
    ),
    ("report.photo", "Photo", "Foto"),
    ("report.timeline", "What happened", "Riwayat"),
    ("timeline.created", "Report filed", "Laporan dibuat"),
    ("timeline.status", "Status", "Status"),
    (
        "timeline.answer",
        "Answer from the agency",
        "Jawaban instansi",
    ),
    (
        "timeline.escalation",
        "Escalated to level",
        "Dieskalasi ke tingkat",
    ),
    (
        "timeline.withdrawn",
        "Withdrawn by the reporter",
        "Ditarik oleh pelapor",
    ),
    ("timeline.updated", "Report edited", "Laporan diubah"),
    ("notifications.title", "Notifications", "Notifikasi"),
    (
        "notifications.empty",
        "No notifications.",
        "Tidak ada notifikasi.",
    ),
    ("notifications.mark_read", "Mark as read", "Tandai dibaca"),
    (
        "notifications.read_all",
        "Mark all as read",
        "Tandai semua dibaca",
    ),
    ("inbox.title", "Inbox", "Kotak masuk"),
    ("inbox.all_agencies", "all agencies", "semua instansi"),
    (
        "inbox.empty",
        "No cases match.",
        "Tidak ada kasus yang cocok.",
    ),
    ("inbox.overdue_only", "Only overdue", "Hanya yang terlambat"),
    ("inbox.updated", "Updated live.", "Diperbarui langsung."),
    ("case.title", "Case", "Kasus"),
    ("case.change_status", "Change status", "Ubah status"),
    (
        "case.final",
        "This case is closed.",
        "Kasus ini sudah ditutup.",
    ),
    ("case.reason", "Reason", "Alasan"),
    (
        "case.reason_help",
        "Required when rejecting; the citizen sees it.",
        "Wajib saat menolak; warga akan melihatnya.",
    ),
    ("case.save_status", "Save status", "Simpan status"),
    ("case.answer", "Answer the citizen", "Jawab warga"),
    ("case.answer_label", "Message", "Pesan"),
    ("case.send_answer", "Send answer", "Kirim jawaban"),
    ("case.history", "History", "Riwayat"),
    ("case.no_history", "Nothing yet.", "Belum ada."),
    ("sla.title", "SLA settings", "Pengaturan SLA"),
    (
        "sla.help",
        "How long an agency has to resolve a case before it escalates to its supervisor, then to the city head.",
        "Berapa lama instansi punya waktu menyelesaikan kasus sebelum dieskalasi ke supervisor, lalu ke kepala daerah.",
    ),
    ("sla.default", "Default", "Bawaan"),
    ("sla.hours", "hours", "jam"),
    ("sla.save", "Save", "Simpan"),
    ("sla.change", "Change", "Ubah"),
    ("sla.left", "left", "tersisa"),
    ("sla.overdue_by", "overdue by", "terlambat"),
    (
        "sla.bad_hours",
        "Enter the SLA in hours, e.g. 48 or 0.5.",
        "Masukkan SLA dalam jam, mis. 48 atau 0,5.",
    ),
    ("escalations.title", "Escalated cases", "Kasus tereskalasi"),
    ("escalations.level", "Level", "Tingkat"),
    ("escalations.due", "Was due", "Tenggat"),
    ("escalations.at", "Escalated", "Dieskalasi"),
    (
        "escalations.empty",
        "No escalated cases.",
        "Tidak ada kasus tereskalasi.",
    ),
    ("performance.title", "Performance", "Kinerja"),
    ("performance.from", "From", "Dari"),
    ("performance.to", "To", "Sampai"),
    (
        "performance.help",
        "Cases filed in the period. First response: the first status change or answer by staff. Resolution: the move to resolved or rejected. Median and 90th percentile by the nearest-rank method. SLA breach rate: share of the period's cases escalated at least once. Open backlog: cases open now.",
        "Kasus yang masuk dalam periode. Respons pertama: perubahan status atau jawaban pertama oleh petugas. Penyelesaian: perpindahan ke selesai atau ditolak. Median dan persentil ke-90 dengan metode peringkat terdekat. Tingkat pelanggaran SLA: porsi kasus periode ini yang pernah dieskalasi. Tunggakan: kasus yang masih terbuka sekarang.",
    ),
    (
        "performance.bad_date",
        "Dates must look like 2026-11-21.",
        "Tanggal harus berformat 2026-11-21.",
    ),
    (
        "performance.overall",
        "All selected agencies",
        "Semua instansi terpilih",
    ),
    ("performance.cases", "Cases", "Kasus"),
    ("performance.open", "Open backlog", "Tunggakan terbuka"),
    ("performance.resolved", "Resolved", "Selesai"),
    (
        "performance.first_median",
        "First response (median)",
        "Respons pertama (median)",
    ),
    (
        "performance.first_p90",
        "First response (p90)",
        "Respons pertama (p90)",
    ),
    (
        "performance.res_median",
        "Resolution (median)",
        "Penyelesaian (median)",
    ),
    (
        "performance.res_p90",
        "Resolution (p90)",
        "Penyelesaian (p90)",
    ),
    (
        "performance.breach",
        "SLA breach rate",
        "Tingkat pelanggaran SLA",
    ),
    (
        "performance.daily",
        "Cases filed and closed per day",
        "Kasus masuk dan ditutup per hari",
    ),
    ("performance.created", "filed", "masuk"),
    ("performance.closed", "closed", "ditutup"),
    (
        "performance.response_chart",
        "Median time to first response",
        "Median waktu respons pertama",
    ),
    (
        "performance.breach_chart",
        "SLA breach rate by agency",
        "Tingkat pelanggaran SLA per instansi",
    ),
    ("performance.by_agency", "By agency", "Per instansi"),
    ("performance.by_officer", "By officer", "Per petugas"),
    ("performance.officer", "Officer", "Petugas"),
    ("performance.handled", "Handled", "Ditangani"),
    (
        "performance.in_progress",
        "In progress now",
        "Sedang diproses",
    ),
    (
        "performance.empty",
        "No cases in this period.",
        "Tidak ada kasus dalam periode ini.",
    ),
    // Notifications (crate::notices): {report} is the report's title in
    // quotes, or a short id.
    (
        "notice.status",
        "Your report {report} is now {new} (was {old})",
        "Status laporan Anda {report} kini {new} (sebelumnya {old})",
    ),
    (
        "notice.answered",
        "The agency answered your report {report}",
        "Instansi menjawab laporan Anda {report}",
    ),
    (
        "notice.escalated_supervisor",
        "Your report {report} was not handled in time and has been escalated to the agency's supervisor",
        "Laporan Anda {report} tidak ditangani tepat waktu dan telah dieskalasi ke supervisor instansi",
    ),
    (
        "notice.escalated_head",
        "Your report {report} was not handled in time and has been escalated to the city head",
        "Laporan Anda {report} tidak ditangani tepat waktu dan telah dieskalasi ke kepala daerah",
    ),
    (
        "notice.escalated_staff",
        "A case of {agency} breached its SLA (escalation level {level}): {report}",
        "Sebuah kasus {agency} melewati SLA (eskalasi tingkat {level}): {report}",
    ),
    ("notice.report_id", "#{id}", "#{id}"),
    (
        "feed.already_upvoted",
        "You have already upvoted this report.",
        "Anda sudah mendukung laporan ini.",
    ),
    ("field.address_short", "Address", "Alamat"),
    ("feed.votes_column", "Upvotes", "Dukungan"),
    ("admin.title", "Administration", "Administrasi"),
    (
        "admin.audit_link",
        "Audit trail of staff actions",
        "Jejak audit tindakan petugas",
    ),
    ("audit.title", "Audit trail", "Jejak audit"),
    (
        "audit.intro",
        "Every privileged staff action, newest first. Citizens never appear here.",
        "Setiap tindakan istimewa petugas, terbaru lebih dulu. Warga tidak pernah tercatat di sini.",
    ),
    ("audit.actor", "Staff member", "Petugas"),
    ("audit.anyone", "Anyone", "Siapa saja"),
    ("audit.action", "Action", "Tindakan"),
    ("audit.any_action", "Any action", "Semua tindakan"),
    ("audit.from", "From (day)", "Dari (hari)"),
    ("audit.to", "To (day)", "Sampai (hari)"),
    ("audit.when", "When", "Waktu"),
    ("audit.target", "Target", "Sasaran"),
    ("audit.details", "Details", "Rincian"),
    ("audit.empty", "No entries.", "Tidak ada entri."),
    (
        "audit.action.status_changed",
        "Status changed",
        "Status diubah",
    ),
    ("audit.action.answered", "Answered", "Dijawab"),
    ("audit.action.sla_changed", "SLA changed", "SLA diubah"),
    (
        "audit.action.agency_changed",
        "Agency saved",
        "Instansi disimpan",
    ),
    (
        "audit.action.category_changed",
        "Category saved",
        "Kategori disimpan",
    ),
    ("audit.action.user_added", "Account created", "Akun dibuat"),
    ("audit.action.staff_login", "Staff login", "Login petugas"),
    (
        "admin.add_staff",
        "Add a staff account",
        "Tambah akun petugas",
    ),
    ("admin.role", "Role", "Peran"),
    ("admin.add", "Add", "Tambah"),
    (
        "admin.add_agency",
        "Add or rename an agency",
        "Tambah atau ubah instansi",
    ),
    (
        "admin.add_category",
        "Add or re-route a category",
        "Tambah atau alihkan kategori",
    ),
    ("admin.code", "Code", "Kode"),
    ("admin.name", "Name", "Nama"),
    ("admin.slug", "Slug", "Slug"),
    ("admin.save", "Save", "Simpan"),
    ("admin.saved", "Saved:", "Tersimpan:"),
    ("admin.user_added", "Account created:", "Akun dibuat:"),
    ("admin.staff", "Staff accounts", "Akun petugas"),
    (
        "admin.catalog",
        "Categories and their agencies",
        "Kategori dan instansinya",
    ), // Error messages, one per lapor_app::ErrorCode (crate::error::translate
    // fills in the {params}).
    (
        "code.bad_request",
        "The request could not be understood.",
        "Permintaan tidak dapat dipahami.",
    ),
    (
        "code.unauthorized",
        "Log in first.",
        "Silakan masuk terlebih dahulu.",
    ),
    (
        "code.forbidden",
        "You may not do this.",
        "Anda tidak boleh melakukan ini.",
    ),
    ("code.not_found", "Not found.", "Tidak ditemukan."),
    (
        "code.method_not_allowed",
        "This action is not available here.",
        "Tindakan ini tidak tersedia di sini.",
    ),
    (
        "code.conflict",
        "This conflicts with the current state; reload and try again.",
        "Ini bertentangan dengan keadaan saat ini; muat ulang lalu coba lagi.",
    ),
    (
        "code.payload_too_large",
        "What was sent is too large.",
        "Yang dikirim terlalu besar.",
    ),
    (
        "code.unsupported_media_type",
        "This kind of content is not accepted.",
        "Jenis isi ini tidak diterima.",
    ),
    (
        "code.unprocessable",
        "The request could not be processed.",
        "Permintaan tidak dapat diproses.",
    ),
    (
        "code.too_many_requests",
        "Too many requests; please try again in a moment.",
        "Terlalu banyak permintaan; silakan coba lagi sebentar lagi.",
    ),
    (
        "code.unavailable",
        "Lapor is busy right now; please try again in a moment.",
        "Lapor sedang sibuk; silakan coba lagi sebentar lagi.",
    ),
    (
        "code.internal",
        "Something went wrong on our side. Please try again.",
        "Terjadi kesalahan di sisi kami. Silakan coba lagi.",
    ),
    (
        "code.endpoint_not_found",
        "This address does not exist.",
        "Alamat ini tidak ada.",
    ),
    (
        "code.invalid_id",
        "The link contains an invalid id.",
        "Tautan berisi id yang tidak sah.",
    ),
    (
        "code.query_invalid",
        "A search or filter value is invalid.",
        "Nilai pencarian atau filter tidak sah.",
    ),
    (
        "code.json_malformed",
        "The data sent could not be read.",
        "Data yang dikirim tidak dapat dibaca.",
    ),
    (
        "code.json_invalid",
        "The data sent has a wrong or missing field.",
        "Data yang dikirim memiliki kolom yang salah atau kurang.",
    ),
    (
        "code.json_required",
        "The data must be sent as JSON.",
        "Data harus dikirim sebagai JSON.",
    ),
    (
        "code.body_too_large",
        "What was sent is too large.",
        "Yang dikirim terlalu besar.",
    ),
    (
        "code.field_missing",
        "A required field is missing.",
        "Ada kolom wajib yang belum diisi.",
    ),
    (
        "code.multipart_required",
        "Send the photos as a file upload form.",
        "Kirim foto melalui formulir unggah berkas.",
    ),
    (
        "code.multipart_malformed",
        "The upload could not be read; please try again.",
        "Unggahan tidak dapat dibaca; silakan coba lagi.",
    ),
    (
        "code.upload_too_large",
        "The upload is too large: send fewer or smaller photos.",
        "Unggahan terlalu besar: kirim lebih sedikit atau lebih kecil foto.",
    ),
    (
        "code.form_field_unknown",
        "The upload form has a field that is not accepted.",
        "Formulir unggahan berisi kolom yang tidak diterima.",
    ),
    (
        "code.form_field_invalid",
        "A field of the upload form has an invalid value.",
        "Salah satu kolom formulir unggahan berisi nilai yang tidak sah.",
    ),
    (
        "code.token_missing",
        "Log in first.",
        "Silakan masuk terlebih dahulu.",
    ),
    (
        "code.auth_header_invalid",
        "Your login could not be read; please log in again.",
        "Data masuk Anda tidak dapat dibaca; silakan masuk lagi.",
    ),
    (
        "code.token_invalid",
        "Your login is not valid; please log in again.",
        "Data masuk Anda tidak sah; silakan masuk lagi.",
    ),
    (
        "code.token_expired",
        "Your session has expired; please log in again.",
        "Sesi Anda telah berakhir; silakan masuk lagi.",
    ),
    (
        "code.text_empty",
        "{field} must not be empty.",
        "{field} tidak boleh kosong.",
    ),
    (
        "code.text_too_long",
        "{field} must be at most {max} characters.",
        "{field} paling banyak {max} karakter.",
    ),
    (
        "code.text_has_nul",
        "{field} must not contain a NUL character.",
        "{field} tidak boleh berisi karakter NUL.",
    ),
    (
        "code.category_unknown",
        "Unknown category '{category}'.",
        "Kategori '{category}' tidak dikenal.",
    ),
    (
        "code.category_invalid",
        "Invalid category slug '{category}': use 1-40 lower-case letters, digits, '-' or '_'.",
        "Slug kategori '{category}' tidak sah: gunakan 1-40 huruf kecil, angka, '-' atau '_'.",
    ),
    (
        "code.category_exists",
        "Category '{category}' already exists: use that slug to rename or re-route it.",
        "Kategori '{category}' sudah ada: gunakan slug itu untuk mengubah nama atau instansinya.",
    ),
    (
        "code.agency_unknown",
        "Unknown agency '{agency}'.",
        "Instansi '{agency}' tidak dikenal.",
    ),
    (
        "code.agency_invalid",
        "Invalid agency code '{agency}': use 1-40 upper-case letters, digits or '_'.",
        "Kode instansi '{agency}' tidak sah: gunakan 1-40 huruf besar, angka atau '_'.",
    ),
    (
        "code.report_not_found",
        "Report not found.",
        "Laporan tidak ditemukan.",
    ),
    (
        "code.location_out_of_range",
        "The latitude must be between -90 and 90 and the longitude between -180 and 180.",
        "Lintang harus antara -90 dan 90, dan bujur antara -180 dan 180.",
    ),
    (
        "code.location_incomplete",
        "Give both the latitude and the longitude (an address alone is not enough).",
        "Isi lintang dan bujur sekaligus (alamat saja tidak cukup).",
    ),
    (
        "code.visibility_invalid",
        "Invalid visibility: use Public, Private or Anonymous.",
        "Visibilitas tidak sah: gunakan Publik, Privat atau Anonim.",
    ),
    (
        "code.status_with_edits",
        "Change the status or the content, not both at once.",
        "Ubah status atau isi laporan, jangan keduanya sekaligus.",
    ),
    (
        "code.no_changes",
        "Nothing to change.",
        "Tidak ada yang diubah.",
    ),
    (
        "code.not_owner",
        "Only the reporter may do this.",
        "Hanya pelapor yang boleh melakukan ini.",
    ),
    (
        "code.report_not_editable",
        "The report can only be changed while it is Received (it is {status}).",
        "Laporan hanya dapat diubah selama berstatus Diterima (kini {status}).",
    ),
    (
        "code.report_not_withdrawable",
        "The report is already {status} and can no longer be withdrawn.",
        "Laporan sudah {status} dan tidak dapat ditarik lagi.",
    ),
    (
        "code.report_withdrawn",
        "The reporter has withdrawn this report.",
        "Pelapor telah menarik laporan ini.",
    ),
    (
        "code.report_not_public",
        "Only public reports can be upvoted.",
        "Hanya laporan publik yang dapat didukung.",
    ),
    (
        "code.no_anonymous_key",
        "Your account cannot file anonymous reports (it has no anonymous key).",
        "Akun Anda tidak dapat membuat laporan anonim (tidak memiliki kunci anonim).",
    ),
    (
        "code.already_upvoted",
        "You have already upvoted this report.",
        "Anda sudah mendukung laporan ini.",
    ),
    (
        "code.self_upvote",
        "You cannot upvote your own report.",
        "Anda tidak dapat mendukung laporan Anda sendiri.",
    ),
    (
        "code.login_required",
        "Log in to see your reports.",
        "Masuk untuk melihat laporan Anda.",
    ),
    (
        "code.photos_missing",
        "Send at least one photo (a JPEG, PNG or WebP file).",
        "Kirim setidaknya satu foto (berkas JPEG, PNG atau WebP).",
    ),
    (
        "code.too_many_photos",
        "A report has at most {max} photos.",
        "Satu laporan paling banyak {max} foto.",
    ),
    (
        "code.photo_too_large",
        "{photo} is {size}; the limit is {limit} per photo.",
        "{photo} berukuran {size}; batasnya {limit} per foto.",
    ),
    ("code.photo_empty", "{photo} is empty.", "{photo} kosong."),
    (
        "code.photo_unsupported",
        "{photo} is not a supported image: send a JPEG, PNG or WebP photo.",
        "{photo} bukan gambar yang didukung: kirim foto JPEG, PNG atau WebP.",
    ),
    (
        "code.photo_damaged",
        "{photo} could not be read: the image is damaged or incomplete.",
        "{photo} tidak dapat dibaca: gambar rusak atau tidak lengkap.",
    ),
    (
        "code.photo_too_many_pixels",
        "{photo} has too many pixels: at most {megapixels} megapixels and {side} pixels per side.",
        "{photo} memiliki terlalu banyak piksel: paling banyak {megapixels} megapiksel dan {side} piksel per sisi.",
    ),
    (
        "code.photo_not_found",
        "Photo not found.",
        "Foto tidak ditemukan.",
    ),
    (
        "code.case_not_found",
        "Case not found.",
        "Kasus tidak ditemukan.",
    ),
    (
        "code.staff_only",
        "Only agency staff can do this.",
        "Hanya petugas instansi yang dapat melakukan ini.",
    ),
    (
        "code.managers_only",
        "Only supervisors and the city head can do this.",
        "Hanya supervisor dan kepala daerah yang dapat melakukan ini.",
    ),
    (
        "code.admin_only",
        "Only the city head may do this.",
        "Hanya kepala daerah yang boleh melakukan ini.",
    ),
    (
        "code.no_agency",
        "Your account belongs to no agency.",
        "Akun Anda tidak termasuk instansi mana pun.",
    ),
    (
        "code.other_agency",
        "This belongs to another agency.",
        "Ini milik instansi lain.",
    ),
    (
        "code.status_invalid",
        "Invalid status '{status}': use Received, In progress, Resolved or Rejected.",
        "Status '{status}' tidak sah: gunakan Diterima, Diproses, Selesai atau Ditolak.",
    ),
    (
        "code.status_unchanged",
        "The case is already {status}.",
        "Kasus sudah {status}.",
    ),
    (
        "code.invalid_status_transition",
        "A case cannot move from {from} to {to}.",
        "Kasus tidak dapat berpindah dari {from} ke {to}.",
    ),
    (
        "code.reason_required",
        "A reason is required to reject a case.",
        "Alasan wajib diisi untuk menolak kasus.",
    ),
    (
        "code.concurrent_update",
        "Someone else changed this meanwhile; reload and try again.",
        "Orang lain telah mengubahnya; muat ulang lalu coba lagi.",
    ),
    (
        "code.page_size_invalid",
        "The page size must be 1 or more.",
        "Ukuran halaman minimal 1.",
    ),
    (
        "code.page_out_of_range",
        "The page must be between 1 and 1000000.",
        "Halaman harus antara 1 dan 1000000.",
    ),
    (
        "code.cursor_with_sort",
        "Sorted by {sort}, pages are numbered; a cursor cannot be used.",
        "Dengan urutan {sort}, halaman diberi nomor; kursor tidak dapat dipakai.",
    ),
    (
        "code.sort_invalid",
        "Invalid sort '{sort}': use newest, oldest, upvotes or sla_due.",
        "Urutan '{sort}' tidak sah: gunakan newest, oldest, upvotes atau sla_due.",
    ),
    (
        "code.cursor_with_page",
        "A cursor cannot be combined with page numbers.",
        "Kursor tidak dapat digabung dengan nomor halaman.",
    ),
    (
        "code.cursor_invalid",
        "This page link is not valid; start again from the first page.",
        "Tautan halaman ini tidak sah; mulai lagi dari halaman pertama.",
    ),
    (
        "code.username_invalid",
        "The username must be 3-32 characters: letters, digits, '.', '_' or '-'.",
        "Nama pengguna harus 3-32 karakter: huruf, angka, '.', '_' atau '-'.",
    ),
    (
        "code.username_taken",
        "That username is taken.",
        "Nama pengguna itu sudah dipakai.",
    ),
    (
        "code.password_too_short",
        "The password must be at least 8 characters.",
        "Kata sandi minimal 8 karakter.",
    ),
    (
        "code.password_too_long",
        "The password must be at most 1024 bytes.",
        "Kata sandi paling banyak 1024 byte.",
    ),
    (
        "code.login_failed",
        "Wrong username or password.",
        "Nama pengguna atau kata sandi salah.",
    ),
    (
        "code.role_invalid",
        "Invalid role '{role}': use citizen, officer, supervisor or admin.",
        "Peran '{role}' tidak sah: gunakan citizen, officer, supervisor atau admin.",
    ),
    (
        "code.agency_required",
        "An account with the role {role} needs an agency.",
        "Akun dengan peran {role} memerlukan instansi.",
    ),
    (
        "code.agency_not_allowed",
        "An account with the role {role} has no agency.",
        "Akun dengan peran {role} tidak memiliki instansi.",
    ),
    (
        "code.sla_too_short",
        "The SLA must be at least {min} seconds.",
        "SLA minimal {min} detik.",
    ),
    (
        "code.sla_too_long",
        "The SLA must be at most {max} seconds.",
        "SLA paling lama {max} detik.",
    ),
    (
        "code.default_sla_admin_only",
        "Only the city head may change the default SLA; choose a category.",
        "Hanya kepala daerah yang boleh mengubah SLA bawaan; pilih kategori.",
    ),
    (
        "code.sla_status_invalid",
        "Invalid SLA status: use PENDING, ESCALATED, COMPLETED or CANCELLED.",
        "Status SLA tidak sah: gunakan PENDING, ESCALATED, COMPLETED atau CANCELLED.",
    ),
    (
        "code.period_reversed",
        "The start must be before the end.",
        "Tanggal awal harus sebelum tanggal akhir.",
    ),
    (
        "code.audit_action_invalid",
        "Unknown audit action.",
        "Jenis tindakan audit tidak dikenal.",
    ),
    (
        "code.date_invalid",
        "Invalid date: use YYYY-MM-DD.",
        "Tanggal tidak sah: gunakan YYYY-MM-DD.",
    ),
    (
        "code.period_too_long",
        "The period must be at most {max_days} days.",
        "Periode paling lama {max_days} hari.",
    ),
    (
        "code.notification_not_found",
        "Notification not found.",
        "Notifikasi tidak ditemukan.",
    ),
    // Names of text fields in error messages ({field}).
    ("textfield.content", "the description", "isi laporan"),
    ("textfield.description", "the description", "isi laporan"),
    ("textfield.title", "the title", "judul"),
    ("textfield.address", "the address", "alamat"),
    ("textfield.message", "the message", "pesan"),
    ("textfield.reason", "the reason", "alasan"),
    ("textfield.name", "the name", "nama"),
    ("textfield.username", "the username", "nama pengguna"),
    ("textfield.search", "the search text", "kata pencarian"),
    ("photo.the", "the photo", "foto"),
    (
        "photo.nth",
        "photo {index} of {count}",
        "foto {index} dari {count}",
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for (k, _, _) in STRINGS {
            assert!(seen.insert(*k), "duplicate key {k}");
        }
    }

    /// Every `s("...")` in the templates and sources has both languages.
    #[test]
    fn every_used_key_exists() {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/");
        let mut missing = Vec::new();
        for dir in ["templates", "src", "src/pages"] {
            for entry in std::fs::read_dir(format!("{root}{dir}")).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    continue;
                }
                let text = std::fs::read_to_string(&path).unwrap();
                for piece in text.split(".s(\"").skip(1) {
                    let key = piece.split('"').next().unwrap();
                    if key.contains('{') || key.ends_with('.') {
                        continue; // built with format!, checked below
                    }
                    if !TABLE.contains_key(key) {
                        missing.push(format!("{}: {key}", path.display()));
                    }
                }
            }
        }
        for role in ["citizen", "officer", "supervisor", "admin"] {
            if !TABLE.contains_key(format!("role.{role}").as_str()) {
                missing.push(format!("role.{role}"));
            }
        }
        for st in ["RECEIVED", "IN_PROGRESS", "RESOLVED", "REJECTED"] {
            if !TABLE.contains_key(format!("status.{st}").as_str()) {
                missing.push(format!("status.{st}"));
            }
        }
        for a in lapor_domain::audit::AuditAction::ALL {
            let key = format!("audit.action.{}", a.as_str());
            if !TABLE.contains_key(key.as_str()) {
                missing.push(key);
            }
        }
        for v in ["PUBLIC", "PRIVATE", "ANONYMOUS"] {
            if !TABLE.contains_key(format!("vis.{v}").as_str()) {
                missing.push(format!("vis.{v}"));
            }
        }
        assert!(missing.is_empty(), "missing translations: {missing:#?}");
    }

    /// Every error code has a message in both languages, and both name the
    /// same parameters.
    #[test]
    fn every_error_code_is_translated() {
        fn params(s: &str) -> std::collections::BTreeSet<&str> {
            s.split('{')
                .skip(1)
                .filter_map(|p| p.split_once('}').map(|(name, _)| name))
                .collect()
        }
        let mut missing = Vec::new();
        for code in lapor_app::ErrorCode::ALL {
            let key = format!("code.{}", code.as_str());
            match TABLE.get(key.as_str()) {
                Some((en, id)) => {
                    assert!(!en.is_empty() && !id.is_empty(), "{key} is empty");
                    assert_eq!(params(en), params(id), "{key}: the languages differ");
                }
                None => missing.push(key),
            }
        }
        assert!(missing.is_empty(), "untranslated error codes: {missing:#?}");
        // And no translation is left for a code that no longer exists.
        for (k, _, _) in STRINGS {
            if let Some(code) = k.strip_prefix("code.") {
                assert!(
                    lapor_app::ErrorCode::ALL.iter().any(|c| c.as_str() == code),
                    "{k} translates no error code"
                );
            }
        }
    }

    #[test]
    fn accept_language_picks_ours() {
        let mut h = HeaderMap::new();
        h.insert(header::ACCEPT_LANGUAGE, "fr-FR,en;q=0.8".parse().unwrap());
        assert_eq!(Lang::from_accept(&h), Lang::En);
        h.insert(header::ACCEPT_LANGUAGE, "id-ID,en;q=0.8".parse().unwrap());
        assert_eq!(Lang::from_accept(&h), Lang::Id);
        assert_eq!(Lang::from_accept(&HeaderMap::new()), Lang::Id);
    }
}
