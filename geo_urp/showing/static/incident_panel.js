// The open incidents beside the map: one item per incident (div[data-id] in #incident-list), in
// the server's order (priority, then age: the oldest first, then id), with what the operator reads
// out and acts on: priority, kind in the reader's words, asset, status, crew, age, calls, the explanation,
// the valves to close in order and, when no crew could be named, the dispatch note.
// Its actions (a <details>) hold the assign form; the move form is added when they first open.
//
// From the list the operator
//  - assigns or reassigns a crew (select[name=crew_id], button[name=assign]): the town's crews with
//    the skill the kind needs, those covering the incident's area first, the one named by the rules
//    preselected (POST /api/incidents/{id}/status {"status": "assigned", "crew_id"});
//  - merges incidents: ticks two or more (input[name=merge]), then #merge-selected
//    (POST /api/incidents/merge {"ids"});
//  - moves one call into another incident (select[name=report_id], select[name=incident_id],
//    button[name=move]: POST /api/reports/{id}/move {"incident_id"}).
// Each answer is said in #panel-status; the live poll then brings the change (asked at once through
// hooks.changed). An item replaced by a poll keeps the ticks, the open actions and the choices made
// in it. A click on an item's title shows the incident on the map (hooks.focus).
// Text goes in with textContent, never as HTML: explanations quote what callers said. Every word comes
// from the page's dictionary (words.js) or the server's names (cfg.kinds, cfg.statuses).
function geoUrpIncidentPanel(cfg, hooks) {
  const W = geoUrpWords;
  const STATUS = cfg.statuses;
  const ASSIGNABLE = ["open", "assigned"];  // the statuses an assigned step may leave (acting.work_orders)
  const list = document.getElementById("incident-list");
  const mergeButton = document.getElementById("merge-selected");
  const status = document.getElementById("panel-status");
  const shown = new Map();  // incident id -> {props, key, item}
  const ticked = new Set();  // incident ids ticked for a merge
  const clock = new Intl.DateTimeFormat(W.locale, {timeZone: W.zone, day: "2-digit", month: "2-digit",
                                                   hour: "2-digit", minute: "2-digit"});
  let busy = false;

  const node = (tag, text, className) => {
    const el = document.createElement(tag);
    if (text != null) el.textContent = text;
    if (className) el.className = className;
    return el;
  };
  const option = (value, text, selected) => {
    const el = node("option", text);
    el.value = value;
    el.selected = Boolean(selected);
    return el;
  };
  const kindOf = p => cfg.kinds[p.kind] || p.kind;
  const calls = n => W.n("calls", n);
  const title = p => `#${p.id} ${kindOf(p)}${p.asset_ids.length ? ` ${p.asset_ids.join(", ")}` : ""}`;

  function age(openedAt) {
    const minutes = Math.max(0, Math.floor((Date.now() - Date.parse(openedAt)) / 60000));
    if (minutes < 60) return W.t("age_minutes", {n: minutes});
    const hours = Math.floor(minutes / 60);
    if (hours < 48) return W.t("age_hours", {h: hours, m: String(minutes % 60).padStart(2, "0")});
    return W.t("age_days", {n: Math.floor(hours / 24)});
  }

  // The town's crews that can take this kind, those covering its area first.
  function crewsFor(p) {
    const skill = cfg.skills[p.kind];
    const able = cfg.crews.filter(c => skill && c.skills.includes(skill));
    const covers = c => (p.area_id && c.area_ids.includes(p.area_id) ? 0 : 1);
    return able.sort((a, b) => covers(a) - covers(b) || a.crew_id.localeCompare(b.crew_id));
  }

  function assignForm(p) {
    const box = node("div", null, "assign");
    const crews = crewsFor(p);
    if (!ASSIGNABLE.includes(p.status)) {
      box.append(node("span", W.t("crew_at_work")));
      return box;
    }
    if (!crews.length) {
      box.append(node("span", cfg.skills[p.kind] ? W.t("no_skilled_crew") : W.t("police")));
      return box;
    }
    const select = node("select");
    select.name = "crew_id";
    select.setAttribute("aria-label", W.t("crew_for", {id: p.id}));
    for (const c of crews) {
      const where = p.area_id && !c.area_ids.includes(p.area_id) ? W.t("out_of_area") : "";
      select.append(option(c.crew_id, `${c.crew_id} — ${c.name}${where}`, c.crew_id === p.crew_id));
    }
    const button = node("button", p.status === "assigned" ? W.t("reassign") : W.t("assign"));
    button.type = "button";
    button.name = "assign";
    button.addEventListener("click", () => assign(p.id, select.value));
    box.append(select, button);
    return box;
  }

  function targets(select, p) {
    const was = select.value;
    select.replaceChildren(option("", W.t("which_incident")));
    for (const other of shown.values()) {
      if (other.props.id === p.id) continue;
      select.append(option(String(other.props.id), `${title(other.props)} (${calls(other.props.report_count)})`));
    }
    select.value = [...select.options].some(o => o.value === was) ? was : "";
  }

  function moveForm(p) {
    const box = node("div", null, "move");
    const report = node("select");
    report.name = "report_id";
    report.setAttribute("aria-label", W.t("call_to_move", {id: p.id}));
    for (const id of p.report_ids) report.append(option(id, W.t("call_n", {id})));
    const into = node("select");
    into.name = "incident_id";
    into.setAttribute("aria-label", W.t("move_into"));
    // Filled when the actions open or the list gets focus, not for every item at once: a list of
    // every other incident in each of n items is n² options on a busy night.
    into.append(option("", W.t("which_incident")));
    into.addEventListener("focus", () => targets(into, p));
    const button = node("button", W.t("move"));
    button.type = "button";
    button.name = "move";
    button.addEventListener("click", () => move(report.value, into.value));
    box.append(node("span", W.t("move_the")), report, node("span", W.t("into_incident")), into, button);
    return box;
  }

  function listed(p) {
    const item = node("div", null, `incident p${p.priority}`);
    Object.assign(item.dataset, {id: p.id, kind: p.kind, status: p.status, priority: p.priority});
    const tick = node("input");
    tick.type = "checkbox";
    tick.name = "merge";
    tick.value = p.id;
    tick.checked = ticked.has(p.id);
    tick.setAttribute("aria-label", W.t("tick_to_merge", {id: p.id}));
    tick.addEventListener("change", () => { if (tick.checked) ticked.add(p.id); else ticked.delete(p.id); tools(); });
    const head = node("div", null, "head");
    const kind = node("button", `P${p.priority} · ${title(p)}`, "kind");
    kind.type = "button";
    kind.title = W.t("show_on_map");
    kind.addEventListener("click", () => hooks.focus(p.id));
    head.append(tick, kind);
    const meta = node("div", null, "meta");
    const when = node("span", age(p.opened_at), "age");
    when.dataset.openedAt = p.opened_at;
    when.title = W.t("opened_at", {when: clock.format(new Date(p.opened_at))});
    meta.append(node("span", STATUS[p.status] || p.status, "status"), " · ",
                node("span", p.crew_id ? W.t("crew_n", {crew: p.crew_id}) : W.t("no_crew"), "crew"), " · ",
                when, " · ", node("span", calls(p.report_count), "calls"));
    item.append(head, meta, node("div", p.explanation, "why"));
    if (p.valves_to_close.length) {
      item.append(node("div", W.t("valves_in_order", {valves: p.valves_to_close.join(", ")}), "valves"));
    }
    if (p.dispatch_note) item.append(node("div", p.dispatch_note, "dispatch"));
    const actions = node("details", null, "actions");
    actions.append(node("summary", W.t("actions")), assignForm(p));
    actions.addEventListener("toggle", () => {
      if (actions.open) withMoveForm(actions, p);
      actions.querySelectorAll("select[name=incident_id]").forEach(select => targets(select, p));
    });
    item.append(actions);
    return item;
  }

  // The move form is made when the actions first open, not with the item: it has an option per call
  // of the incident, so made with every item it would be an option per open call on the page.
  function withMoveForm(actions, p) {
    if (!actions.querySelector(".move")) actions.append(moveForm(p));
  }

  // What the operator had open, chosen or focused in an item a poll replaces.
  function carry(from, to, p) {
    if (from.querySelector(".move")) withMoveForm(to.querySelector("details"), p);
    to.querySelector("details").open = from.querySelector("details").open;
    for (const select of from.querySelectorAll("select")) {
      const twin = to.querySelector(`select[name="${select.name}"]`);
      if (!twin) continue;
      // The new item's list of target incidents is filled only when it opens: keep the one chosen.
      if (select.name === "incident_id" && select.value && ![...twin.options].some(o => o.value === select.value)) {
        twin.append(select.selectedOptions[0].cloneNode(true));
      }
      if ([...twin.options].some(o => o.value === select.value)) twin.value = select.value;
    }
    const focused = from.contains(document.activeElement) && document.activeElement.name;
    if (focused) to.querySelector(`[name="${focused}"]`)?.focus();
  }

  // The server's order: priority, then opening time, then id.
  const keyOf = p => [p.priority, Date.parse(p.opened_at), p.id];
  const order = (a, b) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2];

  function remove(id) {
    const old = shown.get(id);
    if (!old) return;
    old.item.remove();
    shown.delete(id);
    ticked.delete(id);
    tools();
  }

  function put(p) {
    const old = shown.get(p.id);
    const entry = {props: p, key: keyOf(p), item: listed(p)};
    if (old) {
      carry(old.item, entry.item, p);
      old.item.remove();
      shown.delete(p.id);
    }
    const next = [...list.children].find(item => order(shown.get(Number(item.dataset.id)).key, entry.key) > 0);
    list.insertBefore(entry.item, next || null);
    shown.set(p.id, entry);
    tools();
  }

  function tools() {
    const n = [...ticked].filter(id => shown.has(id)).length;
    mergeButton.textContent = n ? W.t("merge_n", {n}) : W.t("merge");
    mergeButton.disabled = busy || n < 2;
  }

  // Every age, as time goes by (called at each poll).
  function tick() {
    for (const el of list.querySelectorAll(".age[data-opened-at]")) el.textContent = age(el.dataset.openedAt);
  }

  function say(text, failed) {
    status.textContent = text;
    status.classList.toggle("failed", Boolean(failed));
  }

  async function act(url, body, done, refused) {
    if (busy) return;
    busy = true;
    tools();
    try {
      const {resp, answer} = await geoUrpPostJson(url, body, cfg.csrfToken);
      if (resp.ok) say(done(answer)); else say(`${refused}: ${geoUrpRefusal(resp, answer)}`, true);
      if (resp.ok) hooks.changed();
      return resp.ok;
    } catch (e) {
      say(`${refused}: ${W.t("unreachable_retry")}`, true);
      return false;
    } finally {
      busy = false;
      tools();
    }
  }

  function assign(id, crewId) {
    return act(geoUrpRoute(cfg.statusUrl, id), {status: "assigned", crew_id: crewId},
               () => W.t("assigned_to", {id, crew: crewId}), W.t("not_assigned", {id}));
  }

  async function merge() {
    const ids = [...ticked].filter(id => shown.has(id)).sort((a, b) => a - b);
    if (ids.length < 2) return;
    const ok = await act(cfg.mergeUrl, {ids}, a => W.t("merged_into", {ids: ids.map(i => `#${i}`).join(", "), id: a.id}),
                         W.t("not_merged"));
    if (ok) { ticked.clear(); list.querySelectorAll("input[name=merge]").forEach(t => { t.checked = false; }); }
    tools();
  }

  function move(reportId, incidentId) {
    if (!reportId || !incidentId) return say(W.t("choose_call_and_incident"), true);
    return act(geoUrpRoute(cfg.moveUrl, reportId), {incident_id: Number(incidentId)},
               a => W.t("moved_into", {report: reportId, id: a.id}), W.t("not_moved", {report: reportId}));
  }

  mergeButton.addEventListener("click", merge);
  tools();
  return {put, remove, tick, get size() { return shown.size; }};
}
