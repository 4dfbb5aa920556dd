// Live incidents on the operator map: polls /api/incidents and redraws one GeoJSON layer.
// Every feature carries properties.id; text goes in with textContent, never as HTML.
function geoUrpLiveIncidents(mapName, url, everyMs) {
  const map = window[mapName];
  const colours = {1: "#d62728", 2: "#ff7f0e", 3: "#1f77b4", 4: "#7f7f7f"};
  const layer = L.geoJSON(null, {
    style: f => ({color: colours[f.properties.priority] || "#333", weight: 5, opacity: 0.8}),
    pointToLayer: (f, latlng) => L.circleMarker(latlng, {radius: 9, weight: 3}),
    onEachFeature: (f, l) => {
      const div = document.createElement("div");
      div.textContent = `${f.properties.kind} ${f.properties.asset_ids.join(", ")}: ${f.properties.explanation}`;
      l.bindPopup(div);
    },
  }).addTo(map);
  const list = document.getElementById("incident-list");
  const count = document.getElementById("incident-count");
  async function refresh() {
    try {
      const resp = await fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}});
      if (!resp.ok) { count.textContent = `Errore ${resp.status}`; return; }
      const fc = await resp.json();
      layer.clearLayers();
      layer.addData(fc);
      count.textContent = `${fc.features.length} incidenti aperti`;
      list.replaceChildren(...fc.features.map(f => {
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
      }));
    } catch (e) { count.textContent = "Servizio non raggiungibile"; }
  }
  refresh();
  setInterval(refresh, everyMs);
}
