// Maps (Leaflet, served by Lapor itself). Tiles come only from the tile
// server the city configured; without one, markers sit on a plain grid.
(function () {
  "use strict";
  var el = document.getElementById("map");
  if (!el || !window.L) return;
  var data = JSON.parse(el.dataset.map || "{}");
  var cfg = data.config || {};
  var center = cfg.center || [-6.2, 106.8167];
  var map = L.map(el, { scrollWheelZoom: false }).setView(center, data.zoom || 12);
  if (cfg.tiles) {
    L.tileLayer(cfg.tiles, { maxZoom: 19, attribution: cfg.attribution || "" }).addTo(map);
  }
  L.Icon.Default.imagePath = "/static/vendor/leaflet/images/";
  var markers = (data.markers || []).map(function (m) {
    var marker = L.marker([m.lat, m.lon], { title: m.title, alt: m.title }).addTo(map);
    var a = document.createElement("a");
    a.href = "/app/reports/" + m.id;
    a.textContent = m.title + " (" + m.status + ")";
    marker.bindPopup(a);
    return marker;
  });
  if (markers.length > 1) {
    map.fitBounds(L.featureGroup(markers).getBounds().pad(0.3), { paddingTopLeft: [0, 40] });
  } else if (markers.length === 1) {
    map.setView(markers[0].getLatLng(), data.zoom || 15);
  }

  // Location picker: a click (or the fields) sets the point.
  if (data.pick) {
    var lat = document.getElementById("lat"), lon = document.getElementById("lon");
    var picked = null;
    function place(latlng) {
      if (picked) picked.setLatLng(latlng); else picked = L.marker(latlng, { draggable: true }).addTo(map);
      picked.on("dragend", function () { place(picked.getLatLng()); });
      lat.value = latlng.lat.toFixed(6);
      lon.value = latlng.lng.toFixed(6);
    }
    map.on("click", function (e) { place(e.latlng); });
    function fromFields() {
      var a = parseFloat(lat.value), b = parseFloat(lon.value);
      if (isFinite(a) && isFinite(b) && Math.abs(a) <= 90 && Math.abs(b) <= 180) {
        place(L.latLng(a, b));
        map.setView([a, b], Math.max(map.getZoom(), 15));
      }
    }
    lat.addEventListener("change", fromFields);
    lon.addEventListener("change", fromFields);
    fromFields();
  }
})();
