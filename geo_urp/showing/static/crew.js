// The crew's work list (/crew): a small map per job, and the status steps with a note.
//
// The page is rendered by the server (every job, its hooks: data-incident-id, textarea[name=note],
// one button[name=status] per step allowed now); this script adds the maps and sends the steps to
// POST /api/incidents/{id}/status with the session cookie and the page's CSRF token. After a step
// the job's buttons are the steps the answer allows. Text goes in with textContent, never as HTML;
// every word comes from the page's dictionary (words.js).
(function () {
  "use strict";
  const W = geoUrpWords;
  const data = JSON.parse(document.getElementById("crew-data").textContent);
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const colours = {1: "#d62728", 2: "#ff7f0e", 3: "#1f77b4", 4: "#7f7f7f"};

  function label(text) {
    const el = document.createElement("span");
    el.textContent = text;
    return el;
  }

  function drawMap(id, job) {
    const el = document.getElementById(`job-map-${id}`);
    if (!el || typeof L === "undefined") return;
    const map = L.map(el, {scrollWheelZoom: false, dragging: !L.Browser.mobile, attributionControl: !!data.tiles_url});
    const colour = colours[job.priority] || "#333";
    const shape = L.geoJSON(job.geometry, {
      style: () => ({color: colour, weight: 6, opacity: 0.85}),
      pointToLayer: (_, latlng) => L.circleMarker(latlng, {radius: 7, color: colour, weight: 3}),
    });
    const valves = job.valves.filter(v => v.lat !== null && v.lon !== null);
    // The view first: Leaflet draws vector layers only on a map that has one.
    const bounds = shape.getBounds();
    valves.forEach(v => bounds.extend([v.lat, v.lon]));
    if (bounds.isValid()) {
      map.fitBounds(bounds, {padding: [20, 20], maxZoom: 18});
    } else {
      map.setView([job.lat, job.lon], 17);
    }
    if (data.tiles_url) {
      L.tileLayer(data.tiles_url, {attribution: data.tiles_attribution, maxZoom: 19}).addTo(map);
    }
    L.geoJSON({type: "FeatureCollection", features: job.streets}, {
      style: () => ({color: "#999", weight: 3}),
      onEachFeature: (f, layer) => layer.bindTooltip(label(f.properties.name || "")),
    }).addTo(map);
    shape.addTo(map);
    valves.forEach(v => {
      const n = job.valves.indexOf(v) + 1;
      L.circleMarker([v.lat, v.lon], {radius: 6, color: "#000", fillColor: "#2ca02c", fillOpacity: 1, weight: 2})
        .bindTooltip(label(`${n}. ${v.valve_id}`), {permanent: true, direction: "right"})
        .addTo(map);
    });
  }

  function says(result, text, isError) {
    result.textContent = text;
    result.classList.toggle("error", !!isError);
  }

  const refusal = status => ([400, 401, 403, 404, 409].includes(status) ? W.t(`refused_${status}`)
                                                                         : W.t("service_error"));

  function showSteps(article, allowed) {
    const box = article.querySelector(".buttons");
    article.querySelector(".no-steps")?.remove();
    if (!allowed.length) {
      const none = document.createElement("p");
      none.className = "hint no-steps";
      none.textContent = W.t("no_step_now");
      box.after(none);
    }
    box.replaceChildren(...allowed.map(step => {
      const b = document.createElement("button");
      b.type = "button";
      b.name = "status";
      b.value = step;
      b.textContent = data.step_labels[step] || step;
      return b;
    }));
  }

  async function step(article, button) {
    const result = article.querySelector(".step-result");
    const note = article.querySelector('textarea[name="note"]');
    const status = button.value;
    if (status === "resolved" && !note.value.trim()) {
      says(result, W.t("write_the_note"), true);
      note.focus();
      return;
    }
    const buttons = article.querySelectorAll('button[name="status"]');
    buttons.forEach(b => { b.disabled = true; });
    says(result, W.t("sending"), false);
    try {
      const resp = await fetch(article.dataset.statusUrl, {
        method: "POST", credentials: "same-origin",
        headers: {"Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": csrf},
        body: JSON.stringify({status: status, note: note.value}),
      });
      if (!resp.ok) {
        says(result, `${refusal(resp.status)} (${resp.status}).`, true);
        buttons.forEach(b => { b.disabled = false; });
        return;
      }
      const answer = await resp.json();
      article.querySelector(".status-label").textContent = data.status_labels[answer.status] || answer.status;
      showSteps(article, answer.allowed);
      note.value = "";
      says(result, answer.status === "resolved" ? W.t("resolved_told")
        : W.t("status_now", {status: data.status_labels[answer.status] || answer.status}), false);
    } catch (err) {
      says(result, W.t("no_answer"), true);
      buttons.forEach(b => { b.disabled = false; });
    }
  }

  document.querySelectorAll("[data-incident-id]").forEach(article => {
    const job = data.jobs[article.dataset.incidentId];
    if (job) drawMap(article.dataset.incidentId, job);
    article.addEventListener("click", event => {
      const button = event.target.closest('button[name="status"]');
      if (button && article.contains(button)) step(article, button);
    });
  });
}());
