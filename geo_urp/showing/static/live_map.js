// The open incidents on the operator's map, each drawn as what it is (SPEC §4: the geometry is
// what the crew goes to, and GET /api/incidents adds where the valves and cabinets stand):
//  - a lamp, a dark circuit, a cabinet's dark lamps: each lamp as a dark dot ringed in the
//    priority's colour, and the cabinet feeding them as a square labelled with its id (the
//    layers have no cable, so a circuit is its lamps and their cabinet);
//  - a burst: its suspected main as a thick line, and the valves to close as numbered discs
//    (1 is closed first), in the order of valves_to_close;
//  - a water outage (cause not located yet): its dry segments, dashed;
//  - a flooded area: its hull, filled blue (a single call: a blue disc at the caller's place);
//  - anything else: where its callers were.
// The colour says the priority. Each family of kinds is an overlay of the page's layer control,
// so the operator may show water alone, lighting alone... Tooltips and popups get DOM nodes whose
// text is set with textContent: explanations quote what callers said.
function geoUrpLiveMap(map, control, kindNames) {
  const W = geoUrpWords;
  const COLOURS = {1: "#d62728", 2: "#ff7f0e", 3: "#1f77b4", 4: "#7f7f7f"};
  const FAMILY = {lamp: "lighting", lighting_circuit: "lighting", lighting_cabinet: "lighting",
                  water_main_burst: "water", water_outage: "water", flooding: "flooding"};
  const OVERLAYS = {lighting: W.t("overlay_lighting"), water: W.t("overlay_water"),
                    flooding: W.t("overlay_flooding"), other: W.t("overlay_other")};
  const FLOOD = "#3182bd";
  const groups = {};
  for (const [family, name] of Object.entries(OVERLAYS)) {
    groups[family] = L.featureGroup().addTo(map);
    if (control) control.addOverlay(groups[family], name);  // the server's own words: the control writes them as HTML
  }
  const drawn = new Map();  // incident id -> {layer, shape}

  const node = (tag, text, className) => {
    const el = document.createElement(tag);
    el.textContent = text;
    if (className) el.className = className;
    return el;
  };
  const kindOf = p => kindNames[p.kind] || p.kind;
  const assets = p => p.asset_ids.length ? ` ${p.asset_ids.join(", ")}` : "";

  function popup(p) {
    const box = document.createElement("div");
    box.className = "incident-popup";
    box.append(node("strong", `#${p.id} ${kindOf(p)}${assets(p)}`),
               node("div", W.t("popup_priority", {priority: p.priority, calls: W.n("calls", p.report_count)})),
               node("div", p.explanation || ""));
    if (p.valves_to_close.length) box.append(node("div", W.t("popup_valves", {valves: p.valves_to_close.join(", ")})));
    return box;
  }

  function style(p) {
    const colour = COLOURS[p.priority] || "#333";
    if (p.kind === "water_main_burst") return {color: colour, weight: 9, opacity: 0.85, lineCap: "round"};
    if (p.kind === "water_outage") return {color: colour, weight: 6, opacity: 0.8, dashArray: "10 8"};
    if (p.kind === "flooding") return {color: colour, weight: 2, fillColor: FLOOD, fillOpacity: 0.35};
    return {color: colour, weight: 4, opacity: 0.8, fillOpacity: 0.2};
  }

  function point(p, latlng) {
    const colour = COLOURS[p.priority] || "#333";
    if (FAMILY[p.kind] === "lighting") {  // a lamp out: dark inside, the priority around it
      return L.circleMarker(latlng, {radius: 6, color: colour, weight: 3, fillColor: "#111", fillOpacity: 1});
    }
    if (p.kind === "flooding") {
      return L.circleMarker(latlng, {radius: 11, color: colour, weight: 2, fillColor: FLOOD, fillOpacity: 0.5});
    }
    return L.circleMarker(latlng, {radius: 9, color: colour, weight: 3, fillOpacity: 0.3});
  }

  // A label on the map as a DOM node: its text set with textContent, its role in data- attributes.
  function mark(className, size, text, data, tip, at) {
    const el = node("span", text);
    Object.assign(el.dataset, data);
    const icon = L.divIcon({className, html: el, iconSize: size});
    return L.marker(at, {icon, keyboard: false}).bindTooltip(node("span", tip), {direction: "top"});
  }

  function layerOf(f) {
    const p = f.properties;
    const shape = L.geoJSON(f, {style: () => style(p), pointToLayer: (_, latlng) => point(p, latlng)});
    const layer = L.featureGroup([shape]);
    (p.valve_points || []).forEach((v, n) => {
      if (v.lat == null || v.lon == null) return;  // a valve the layers no longer have: told in the list
      layer.addLayer(mark("valve-mark", [22, 22], String(n + 1), {incidentId: p.id, valveId: v.valve_id, order: n + 1},
                          W.t("valve_tip", {n: n + 1, valve: v.valve_id}), [v.lat, v.lon]));
    });
    for (const q of p.cabinet_points || []) {
      layer.addLayer(mark("cabinet-mark", [34, 20], q.cabinet_id, {incidentId: p.id, cabinetId: q.cabinet_id},
                          W.t("cabinet_tip", {cabinet: q.cabinet_id}), [q.lat, q.lon]));
    }
    layer.bindPopup(popup(p));
    return {layer, shape, family: FAMILY[p.kind] || "other"};
  }

  function remove(id) {
    const old = drawn.get(id);
    if (!old) return;
    groups[old.family].removeLayer(old.layer);
    drawn.delete(id);
  }

  function put(f) {
    remove(f.properties.id);
    const entry = layerOf(f);
    groups[entry.family].addLayer(entry.layer);
    drawn.set(f.properties.id, entry);
  }

  // Show one incident: its overlay switched on, the map on it, its popup open.
  function focus(id) {
    const entry = drawn.get(id);
    if (!entry) return;
    if (!map.hasLayer(groups[entry.family])) map.addLayer(groups[entry.family]);
    const bounds = entry.layer.getBounds();
    if (!bounds.isValid()) return;
    map.fitBounds(bounds, {maxZoom: 18, padding: [40, 40], animate: false});
    entry.layer.openPopup(bounds.getCenter());
  }

  return {put, remove, focus};
}
