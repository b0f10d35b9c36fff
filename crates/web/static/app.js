// Lapor's page script: in-place upvotes, live badge and inbox over
// server-sent events, auto-submitting selects. Pages work without it.
(function () {
  "use strict";
  var csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";

  // Language select submits itself.
  document.querySelectorAll("select[data-autosubmit]").forEach(function (s) {
    s.addEventListener("change", function () { s.form.submit(); });
  });

  // Upvotes: POST with the CSRF header, update the count in place.
  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    if (!form.classList || !form.classList.contains("upvote")) return;
    ev.preventDefault();
    var button = form.querySelector("button");
    var count = form.querySelector(".count");
    button.disabled = true;
    fetch(form.action, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Accept": "application/json", "X-CSRF-Token": csrf, "Content-Type": "application/x-www-form-urlencoded" },
      body: "csrf=" + encodeURIComponent(csrf)
    }).then(function (r) {
      return r.json().then(function (body) { return { ok: r.ok, body: body }; });
    }).then(function (res) {
      if (res.ok) {
        count.textContent = res.body.vote_count;
        button.classList.add("voted");
        button.setAttribute("aria-pressed", "true");
      } else {
        button.title = res.body.error || "";
        alertMessage(form, res.body.error);
      }
    }).catch(function () { form.submit(); })
      .finally(function () { button.disabled = false; });
  });

  function alertMessage(near, text) {
    if (!text) return;
    var p = near.parentNode.querySelector(".vote-error");
    if (!p) {
      p = document.createElement("p");
      p.className = "vote-error error";
      p.setAttribute("role", "alert");
      near.parentNode.appendChild(p);
    }
    p.textContent = text;
  }

  // Live updates.
  if (document.body.dataset.live !== "true" || !window.EventSource) return;
  var badge = document.getElementById("unread-count");
  var rows = document.querySelector("[data-live-inbox]");
  var note = document.getElementById("live-note");
  var refreshing = false, again = false;

  function refreshInbox() {
    if (!rows) return;
    if (refreshing) { again = true; return; }
    refreshing = true;
    var url = new URL(window.location.href);
    url.searchParams.set("fragment", "1");
    fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) {
        rows.innerHTML = html;
        if (note) note.textContent = note.dataset.updated || "";
      })
      .catch(function () {})
      .finally(function () {
        refreshing = false;
        if (again) { again = false; refreshInbox(); }
      });
  }

  var source = new EventSource("/app/live");
  source.addEventListener("unread", function (e) {
    if (badge) badge.textContent = e.data;
  });
  source.addEventListener("inbox", refreshInbox);
  window.addEventListener("pagehide", function () { source.close(); });
})();
