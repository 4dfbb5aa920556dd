// Live incidents on the operator map, polled incrementally (SPEC §4, GET /api/incidents).
//
// Why: the console stays open all shift, so each poll asks only for what changed. The first poll
// takes the open incidents; every next one sends `since=<next_since of the previous answer>` and
// gets back only the incidents changed since: in full (added, or put in place of the one shown,
// by id) or as `removed` (closed, merged into another: taken off map and list). A quiet poll is an
// empty list, and what is shown is left alone: its popups, its scroll position, its elements.
// On an error the page keeps what it shows, says so, and retries with the same cursor.
// Text goes in with textContent, never as HTML: explanations quote what callers said.
function geoUrpLiveIncidents(mapName, url, everyMs) {
  const map = window[mapName];
  const colours = {1: "#d62728", 2: "#ff7f0e", 3: "#1f77b4", 4: "#7f7f7f"};
  const group = L.layerGroup().addTo(map);
  const list = document.getElementById("incident-list");
  const count = document.getElementById("incident-count");
  const shown = new Map();  // incident id -> {json, key, layer, item}
  let since = null;

  function drawn(f) {
    const p = f.properties, popup = document.createElement("div");
    popup.textContent = `${p.kind} ${p.asset_ids.join(", ")}: ${p.explanation}`;
    return L.geoJSON(f, {
      style: () => ({color: colours[p.priority] || "#333", weight: 5, opacity: 0.8}),
      pointToLayer: (_, latlng) => L.circleMarker(latlng, {radius: 9, weight: 3}),
    }).bindPopup(popup).addTo(group);
  }

  function listed(f) {
    const p = f.properties, item = document.createElement("div");
    item.className = `incident p${p.priority}`;
    item.dataset.id = p.id;
    const head = document.createElement("div");
    head.className = "kind";
    head.textContent = `#${p.id} ${p.kind} ${p.asset_ids.join(", ")} — P${p.priority} — ${p.crew_id || "nessuna squadra"}`;
    const why = document.createElement("div");
    why.textContent = p.explanation;
    const extra = document.createElement("div");
    extra.textContent = `${p.report_ids.length} chiamate` +
      (p.valves_to_close.length ? ` · chiudere ${p.valves_to_close.join(", ")}` : "") +
      ` · affidabilità ${Math.round(p.confidence * 100)}%`;
    item.append(head, why, extra);
    return item;
  }

  // The list's order, as the server's: priority, then opening time, then id.
  const keyOf = p => [p.priority, Date.parse(p.opened_at), p.id];
  const order = (a, b) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2];

  function takeOff(id) {
    const old = shown.get(id);
    if (!old) return;
    group.removeLayer(old.layer);
    old.item.remove();
    shown.delete(id);
  }

  function put(f) {
    const id = f.properties.id, json = JSON.stringify(f);
    // The cursor is the server's oldest running transaction, so an answer may bring an incident
    // back unchanged: then what is drawn stays.
    if (shown.get(id)?.json === json) return;
    takeOff(id);
    const entry = {json, key: keyOf(f.properties), layer: drawn(f), item: listed(f)};
    const next = [...list.children].find(item => order(shown.get(Number(item.dataset.id)).key, entry.key) > 0);
    list.insertBefore(entry.item, next || null);
    shown.set(id, entry);
  }

  async function poll() {
    try {
      const query = since ? `${url.includes("?") ? "&" : "?"}since=${encodeURIComponent(since)}` : "";
      const resp = await fetch(url + query, {credentials: "same-origin", headers: {"Accept": "application/json"}});
      if (!resp.ok) {
        count.textContent = `Errore ${resp.status}: ${shown.size} incidenti aperti all'ultimo aggiornamento`;
      } else {
        const fc = await resp.json();
        for (const f of fc.features) {
          if (f.properties.removed) takeOff(f.properties.id); else put(f);
        }
        since = fc.next_since;
        count.textContent = `${shown.size} incidenti aperti`;
      }
    } catch (e) {
      count.textContent = `Servizio non raggiungibile: ${shown.size} incidenti aperti all'ultimo aggiornamento`;
    }
    // The next poll starts when this one is done, so two answers are never applied out of order.
    setTimeout(poll, everyMs);
  }
  poll();
}
