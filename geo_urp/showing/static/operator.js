// The operator's console: the live incidents polled incrementally (SPEC §4, GET /api/incidents),
// drawn on the map (live_map.js) and listed beside it with their actions (incident_panel.js),
// and the pending call-backs (callbacks.js); the civic numbers layer, fetched when ticked (on_demand_layer.js).
//
// Why incremental: the console stays open all shift, so each poll asks only for what changed. The
// first poll takes the open incidents; every next one sends `since=<next_since of the previous
// answer>` and gets back only the incidents changed since: in full (added, or put in place of the
// one shown, by id) or as `removed` (resolved, closed, merged into another: taken off map and list,
// and the call-backs are read again, since resolving queues them). A quiet poll is an empty list,
// and what is shown is left alone: its popups, its scroll position, its elements.
// On an error the page keeps what it shows, says so, and retries with the same cursor; a cursor
// the service no longer reads (400: it was upgraded meanwhile) is dropped, and the next poll takes
// the open incidents afresh, taking off what is no longer among them. After an operator's action
// the next poll starts at once. Text goes in with textContent, never as HTML.
function geoUrpOperatorConsole(cfg) {
  const map = window[cfg.mapName];
  const count = document.getElementById("incident-count");
  // The civic numbers, after the town's other layers in the control, fetched when ticked (none
  // offered when the town has no addresses layer)
  if (cfg.civicNumbers) {
    geoUrpOnDemandLayer(map, cfg.layerControl, cfg.civicNumbers.name, cfg.civicNumbers.url,
                        {colour: "#999", radius: 2, tip: ["street", "number"]});
  }
  const drawn = geoUrpLiveMap(map, cfg.layerControl, cfg.kinds);
  const callBacks = geoUrpCallBacks(cfg, cfg.callBackMs);
  const panel = geoUrpIncidentPanel(cfg, {focus: id => drawn.focus(id), changed: () => poll()});
  const last = new Map();  // incident id -> its feature as last shown (JSON)
  let since = null, timer = null, polling = false, again = false;

  function takeOff(id) {
    drawn.remove(id);
    panel.remove(id);
    last.delete(id);
  }

  function put(f) {
    const id = f.properties.id, json = JSON.stringify(f);
    // A change may leave what the page shows as it was (a poll taken afresh brings everything
    // again): then what is shown stays.
    if (last.get(id) === json) return;
    drawn.put(f);
    panel.put(f.properties);
    last.set(id, json);
  }

  async function poll() {
    if (polling) { again = true; return; }  // one poll at a time, so answers apply in order
    polling = true;
    clearTimeout(timer);
    try {
      const query = since ? `${cfg.incidentsUrl.includes("?") ? "&" : "?"}since=${encodeURIComponent(since)}` : "";
      const resp = await fetch(cfg.incidentsUrl + query, {credentials: "same-origin",
                                                          headers: {"Accept": "application/json"}});
      if (!resp.ok) {
        count.textContent = geoUrpWords.t("poll_error", {status: resp.status, n: panel.size});
        if (resp.status === 400 && since) { since = null; again = true; }
      } else {
        const fc = await resp.json();
        let removed = false;
        if (!since) {  // everything afresh: what the answer lacks is no longer open
          const open = new Set(fc.features.map(f => f.properties.id));
          for (const id of [...last.keys()]) if (!open.has(id)) { removed = true; takeOff(id); }
        }
        for (const f of fc.features) {
          if (f.properties.removed) { removed = removed || last.has(f.properties.id); takeOff(f.properties.id); }
          else put(f);
        }
        since = fc.next_since;
        count.textContent = geoUrpWords.n("open_count", panel.size);
        panel.tick();
        if (removed) callBacks.refresh();
      }
    } catch (e) {
      count.textContent = geoUrpWords.t("poll_unreachable", {n: panel.size});
    }
    polling = false;
    timer = setTimeout(poll, again ? 0 : cfg.pollMs);
    again = false;
  }
  poll();
}
