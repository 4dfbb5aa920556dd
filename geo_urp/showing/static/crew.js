// The crew's work list (/crew): a small map per job, and the status steps with a note.
//
// The page is rendered by the server (every job, its hooks: data-incident-id, textarea[name=note],
// one button[name=status] per step allowed now); this script adds the maps and sends the steps to
// POST /api/incidents/{id}/status with the session cookie and the page's CSRF token. After a step
// the job's buttons are the steps the answer allows. Text goes in with textContent, never as HTML;
// every word comes from the page's dictionary (words.js).
//
// The list refreshes itself: every pollMs (main[data-poll-ms]) and whenever the page is shown
// again, the jobs are fetched from #jobs[data-refresh-url] (the same template, so the same HTML;
// 304 with its ETag when nothing changed) and merged in: new jobs appear, changed ones are redrawn
// in place, gone ones leave. What a crew member is doing is never lost: a job's note and its focus
// stay where they are (only the parts around the form are replaced), a job whose step is being
// sent is left alone, and a job changed here after the refresh was asked for keeps its own state.
(function () {
  "use strict";
  const W = geoUrpWords;
  let data = JSON.parse(document.getElementById("crew-data").textContent);
  const maps = new Map();       // incident id -> its Leaflet map
  const rendered = new Map();   // incident id -> the job's HTML as the server last sent it
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const colours = {1: "#d62728", 2: "#ff7f0e", 3: "#1f77b4", 4: "#7f7f7f"};

  function label(text) {
    const el = document.createElement("span");
    el.textContent = text;
    return el;
  }

  function drawMap(id, job) {
    maps.get(id)?.remove();
    maps.delete(id);
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
    maps.set(id, map);
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
    article.dataset.sending = "1";
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
    } finally {
      delete article.dataset.sending;
      article.dataset.changedAt = String(performance.now());
    }
  }

  // A job the crew member is working on: a note written, the cursor in it, or a step on its way.
  const busy = article => !!article.dataset.sending || article.contains(document.activeElement)
    || article.querySelector('textarea[name="note"]').value.trim() !== "";

  function watch(article) {
    rendered.set(article.dataset.incidentId, article.outerHTML);
    article.addEventListener("click", event => {
      const button = event.target.closest('button[name="status"]');
      if (button && article.contains(button)) step(article, button);
    });
  }

  // Bring ``article`` to what ``fresh`` (the server's copy) shows, keeping its note and focus:
  // everything but the form is replaced, and the form's buttons only while no step is on its way.
  function update(article, fresh) {
    article.className = fresh.className;
    article.dataset.statusUrl = fresh.dataset.statusUrl;
    const form = article.querySelector("form.steps");
    const freshForm = fresh.querySelector("form.steps");
    [...article.children].forEach(child => { if (child !== form) child.remove(); });
    [...fresh.children].forEach(child => { if (child !== freshForm) form.before(child); });
    form.querySelector(".no-steps")?.remove();
    const hint = freshForm.querySelector(".no-steps");
    form.querySelector(".buttons").replaceWith(freshForm.querySelector(".buttons"));
    if (hint) form.querySelector(".buttons").after(hint);
    article.querySelector(".gone")?.remove();
  }

  // A job no longer on the list while its crew member is at it stays, saying so, until left alone.
  function markGone(article) {
    if (article.querySelector(".gone")) return;
    const note = document.createElement("p");
    note.className = "hint gone";
    note.textContent = W.t("job_gone");
    article.prepend(note);
  }

  function merge(fragment, askedAt) {
    const box = document.getElementById("jobs");
    const fresh = fragment.getElementById("jobs");
    if (!box || !fresh) return;
    const focused = document.activeElement;
    const selection = focused && "selectionStart" in focused ? [focused.selectionStart, focused.selectionEnd] : null;
    data = JSON.parse(fragment.getElementById("crew-data").textContent);
    const old = new Map([...box.querySelectorAll("[data-incident-id]")].map(a => [a.dataset.incidentId, a]));
    const order = [];
    fresh.querySelectorAll("[data-incident-id]").forEach(incoming => {
      const id = incoming.dataset.incidentId;
      const html = incoming.outerHTML;
      let article = old.get(id);
      old.delete(id);
      if (!article) {
        article = document.importNode(incoming, true);
        watch(article);
        article.dataset.draw = "1";
      } else if (html !== rendered.get(id) && !article.dataset.sending
                 && !(Number(article.dataset.changedAt) > askedAt)) {
        update(article, document.importNode(incoming, true));
        rendered.set(id, html);
        article.dataset.draw = "1";
      }
      order.push(article);
    });
    old.forEach((article, id) => {
      if (busy(article)) {
        markGone(article);
        order.push(article);
      } else {
        maps.get(id)?.remove();
        maps.delete(id);
        rendered.delete(id);
        article.remove();
      }
    });
    // Put the jobs in the list's order, moving only those out of place.
    const count = box.querySelector("#job-count");
    count.textContent = fresh.querySelector("#job-count").textContent;
    let cursor = count.nextElementSibling;
    order.forEach(article => {
      if (cursor === article) {
        cursor = cursor.nextElementSibling;
      } else {
        box.insertBefore(article, cursor);
      }
    });
    box.querySelector("#no-jobs")?.remove();
    const none = fresh.querySelector("#no-jobs");
    if (!order.length && none) box.insertBefore(document.importNode(none, true), cursor);
    order.forEach(article => {
      if (!article.dataset.draw) return;
      delete article.dataset.draw;
      const job = data.jobs[article.dataset.incidentId];
      if (job) drawMap(article.dataset.incidentId, job);
      else maps.get(article.dataset.incidentId)?.invalidateSize();
    });
    if (focused && focused.isConnected && document.activeElement !== focused) {
      focused.focus();
      if (selection) focused.setSelectionRange(...selection);
    }
  }

  const jobs = document.getElementById("jobs");
  const pollMs = Number(document.querySelector("main").dataset.pollMs) || 20000;
  let etag = null;
  let refreshing = false;

  async function refresh() {
    if (refreshing || !jobs) return;
    refreshing = true;
    const askedAt = performance.now();
    try {
      const resp = await fetch(jobs.dataset.refreshUrl, {
        credentials: "same-origin", cache: "no-store",
        headers: etag ? {"Accept": "text/html", "If-None-Match": etag} : {"Accept": "text/html"},
      });
      if (resp.status === 200) {
        const fragment = new DOMParser().parseFromString(await resp.text(), "text/html");
        merge(fragment, askedAt);
        // A job changed here after the refresh was asked for was left as it is: ask again in full next time.
        const skipped = [...document.querySelectorAll("[data-incident-id]")]
          .some(a => Number(a.dataset.changedAt) > askedAt);
        etag = skipped ? null : resp.headers.get("ETag");
      }
    } catch (err) {
      // no answer (a phone out of reach): the list stays as it is, and the next refresh tries again
    } finally {
      refreshing = false;
    }
  }

  document.querySelectorAll("[data-incident-id]").forEach(article => {
    watch(article);
    const job = data.jobs[article.dataset.incidentId];
    if (job) drawMap(article.dataset.incidentId, job);
  });
  if (jobs) {
    setInterval(refresh, pollMs);
    document.addEventListener("visibilitychange", () => { if (document.visibilityState === "visible") refresh(); });
  }
}());
