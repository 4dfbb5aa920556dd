// Where the call is: the address the caller says, geocoded as the operator types, or a click on the map.
//
// Typing asks GET /api/geocode (debounced) and lists the best match and the "forse intendevi…"
// alternatives with their kind of match in Italian; the highlighted one is pinned on the map as a
// preview. Enter (or a click) picks the highlighted one, the first by default: the address field
// takes its label, which the service places again with the same geocoder, so the report keeps its
// civic, street and postcode (lat/long would be named anew by reverse geocoding). Arrow keys move
// through the list, Esc closes it. A click on the map fills lat/long instead.
//
// A contact centre answers for several towns. The town is the one chosen in the form, or the one
// the caller names after a comma ("via Roma 3, Marcallo"); otherwise every town is asked, and when
// the place is found in more than one (two towns with a Via Roma) the operator is asked which:
// the form never picks a town silently. A town found from the words alone is shown in the form.
// Everything shown is set with textContent: addresses are the caller's words. The page's own words
// come from its dictionary (words.js).
function geoUrpPlacePicker(map, form, cfg, onPlace) {
  const W = geoUrpWords;
  const KIND = {};
  for (const kind of ["address", "interpolated", "intersection", "landmark", "street"]) KIND[kind] = W.t(`match_${kind}`);
  const TOWN_GAP = 0.15;  // a town whose best match scores this much below another's is not a contender
  const input = form.elements.namedItem("address_string");
  const townField = form.elements.namedItem("jurisdiction_id");
  const lat = form.elements.namedItem("lat"), long = form.elements.namedItem("long");
  const list = document.getElementById("intake-suggestions");
  const status = document.getElementById("intake-place");
  const idle = status.textContent;
  const towns = cfg.towns, several = towns.length > 1;
  let options = [], active = -1, seq = 0, timer = null, inflight = null, pin = null, current = null;
  let asking = false;  // the list asks which town: nothing is highlighted, or picked by Enter, unasked
  let townFromWords = false;  // the town field was set from the address, not by the operator

  const fold = s => s.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase()
    .replace(/[^a-z0-9]+/g, " ").trim();
  const townOf = slug => towns.find(t => t.slug === slug);

  // "via Roma 3, Marcallo": the words after the last comma, when they name exactly one town (its
  // whole name, its first words, or its slug); the address without them (the geocoder knows a
  // town's whole name only, so they are taken off for one town too).
  function townSaid(text) {
    const at = text.lastIndexOf(",");
    const said = at < 0 ? "" : fold(text.slice(at + 1));
    if (!said) return null;
    const hits = towns.filter(t => fold(t.name) === said || fold(t.name).startsWith(said + " ") ||
                                   fold(t.slug) === said);
    return hits.length === 1 ? {town: hits[0], rest: text.slice(0, at).trim()} : null;
  }

  function say(text) { status.textContent = text; }

  function drawPin(place, confirmed) {
    if (pin) map.removeLayer(pin);
    pin = null;
    if (!place) return;
    const tip = document.createElement("span");
    tip.textContent = place.label || W.t("point_chosen");
    pin = L.circleMarker([place.lat, place.lon], {radius: 11, color: "#000", weight: 3, fillColor: "#ffd400",
                                                  fillOpacity: 0.9, dashArray: confirmed ? null : "4 4"})
      .bindTooltip(tip, {permanent: true, direction: "top", offset: [0, -10]}).addTo(map);
    // not animated: a zoom still animating from the previous pin would end back on that one
    map.setView([place.lat, place.lon], Math.max(map.getZoom(), 17), {animate: false});
  }

  function setCurrent(place, confirmed) {
    current = place;
    drawPin(place, confirmed);
    onPlace(place);
  }

  function fillPoint(place) {
    lat.value = place ? place.lat.toFixed(7) : "";
    long.value = place ? place.lon.toFixed(7) : "";
  }

  function describe(o) {
    const town = several ? ` — ${o.town.name}` : "";
    return `${o.label}${town}`;
  }

  function render(heading, items, altFrom, ask = false) {
    list.replaceChildren();
    options = items;
    asking = ask;
    items.forEach((o, i) => {
      if (heading && i === 0) list.append(headingItem(heading));
      if (altFrom !== null && i === altFrom) list.append(headingItem(W.t("did_you_mean")));
      const li = document.createElement("li");
      li.id = `intake-option-${i}`;
      li.setAttribute("role", "option");
      li.dataset.index = i;
      const what = document.createElement("span");
      what.className = "what";
      what.textContent = o.kind ? KIND[o.kind] || o.kind : W.t("search_again");
      li.append(document.createTextNode(describe(o)), what);
      li.addEventListener("mousedown", e => e.preventDefault());  // the address keeps the focus
      li.addEventListener("click", () => pick(i));
      list.append(li);
    });
    list.hidden = items.length === 0;
    input.setAttribute("aria-expanded", String(!list.hidden));
    highlight(items.length && !ask ? 0 : -1);
  }

  function headingItem(text) {
    const li = document.createElement("li");
    li.className = "heading";
    li.setAttribute("role", "presentation");
    li.textContent = text;
    return li;
  }

  function highlight(i) {
    active = i;
    for (const li of list.querySelectorAll("[role=option]")) {
      li.setAttribute("aria-selected", String(Number(li.dataset.index) === i));
    }
    const o = options[i];
    if (o) {
      input.setAttribute("aria-activedescendant", `intake-option-${i}`);
      document.getElementById(`intake-option-${i}`).scrollIntoView({block: "nearest"});
    } else {
      input.removeAttribute("aria-activedescendant");
    }
    if (o && o.kind) setCurrent(o, false);  // a preview: nothing is filled until it is picked
  }

  function closeList() {
    list.hidden = true;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
  }

  function pick(i) {
    const o = options[i];
    if (!o) return;
    if (!o.kind) {  // a name the geocoder found close to what was typed: try it
      input.value = o.label;
      lookup();
      return;
    }
    if (several) townField.value = o.town.slug;
    townFromWords = false;
    input.value = o.label;
    fillPoint(null);
    closeList();
    say(W.t("picked", {kind: KIND[o.kind] || o.kind, place: describe(o)}));
    setCurrent({...o, picked: true}, true);
  }

  function placeOf(body, town) {
    return {lat: body.lat, lon: body.lon, kind: body.match.kind, label: body.match.label, score: body.score, town};
  }

  async function geocode(query, town) {
    const url = `${cfg.geocodeUrl}?q=${encodeURIComponent(query)}&jurisdiction_id=${encodeURIComponent(town.slug)}`;
    try {
      const resp = await fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}});
      return {town, ok: resp.ok, status: resp.status, body: await resp.json()};
    } catch (e) {
      return {town, ok: false, status: 0, body: {}};
    }
  }

  async function lookup() {
    clearTimeout(timer);
    timer = null;
    const my = ++seq, text = input.value.trim();
    if (text.length < 3) {
      render(null, [], null);
      if (!lat.value) { say(idle); setCurrent(null); }
      return;
    }
    const said = townSaid(text);
    if (said) { townField.value = said.town.slug; townFromWords = true; }
    if (several && townFromWords && !said) townField.value = "";  // the town left the words
    const query = said ? said.rest : text;
    const chosen = townOf(townField.value);
    say(W.t("searching"));
    inflight = Promise.all((chosen ? [chosen] : towns).map(t => geocode(query, t)));
    const answers = await inflight;
    if (my !== seq) return;  // the operator typed on: a newer lookup answers
    inflight = null;
    const found = answers.filter(a => a.ok);
    if (!found.length) return notFound(query, answers);
    const top = Math.max(...found.map(a => a.body.score));
    const contenders = found.filter(a => a.body.score >= top - TOWN_GAP);
    if (contenders.length > 1) {
      const names = contenders.map(a => a.town.name).join(", ");
      say(W.t("in_several_towns", {query, towns: names}));
      setCurrent(null);
      return render(W.t("which_town"), contenders.map(a => placeOf(a.body, a.town)), null, true);
    }
    const {body, town} = contenders[0];
    if (several && !chosen) { townField.value = town.slug; townFromWords = true; }
    const items = [placeOf(body, town), ...body.alternatives.map(alt => placeOf(alt, town))];
    const where = several ? W.t(townFromWords ? "town_of_match_from_words" : "town_of_match", {town: town.name}) : "";
    say(W.t("found", {kind: KIND[body.match.kind] || body.match.kind, label: body.match.label, where}));
    render(null, items, items.length > 1 ? 1 : null);
  }

  function notFound(query, answers) {
    const near = [];
    for (const a of answers) {
      for (const d of (a.ok ? [] : a.body.details || [])) {
        if (d.label && !near.some(n => n.label === d.label)) near.push({label: d.label, town: a.town});
      }
    }
    say(W.t(near.length ? "nothing_found_near" : "nothing_found", {query}));
    if (!lat.value) setCurrent(null);
    render(null, near.slice(0, 5), null);
  }

  input.addEventListener("input", () => {
    if (lat.value) fillPoint(null);  // the address changed: the point picked for the old one is gone
    clearTimeout(timer);
    timer = setTimeout(lookup, 250);
  });

  input.addEventListener("keydown", async e => {
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      if (!options.length) return;
      e.preventDefault();
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
      const n = options.length, down = e.key === "ArrowDown";
      highlight(active < 0 ? (down ? 0 : n - 1) : (active + (down ? 1 : n - 1)) % n);
    } else if (e.key === "Enter" && !e.ctrlKey) {
      e.preventDefault();  // Enter in the address picks a place; it never sends the form
      if (timer) await lookup(); else if (inflight) await inflight.then(() => new Promise(r => setTimeout(r)));
      if (asking && active < 0) say(W.t("choose_town_first"));
      else if (options.length) pick(active >= 0 ? active : 0);
    } else if (e.key === "Escape" && !list.hidden) {
      e.preventDefault();
      e.stopPropagation();
      closeList();
    }
  });
  input.addEventListener("blur", () => closeList());

  if (several) {
    townField.addEventListener("change", () => {
      townFromWords = false;
      if (input.value.trim() && !lat.value) lookup();
      else if (current) setCurrent({...current, town: townOf(townField.value)}, Boolean(lat.value));
    });
  }

  map.on("click", e => {
    const place = {lat: e.latlng.lat, lon: e.latlng.lng, kind: null, label: null, picked: true,
                   town: townOf(townField.value)};
    fillPoint(place);
    closeList();
    say(W.t("map_point", {lat: place.lat.toFixed(5), lon: place.lon.toFixed(5)}) +
        (several && !place.town ? W.t("map_point_town") : ""));
    setCurrent(place, true);
  });

  return {
    current: () => current,
    town: () => townOf(townField.value),
    clear() {
      seq++;
      clearTimeout(timer);
      timer = null;
      townFromWords = false;
      render(null, [], null);
      fillPoint(null);
      say(idle);
      setCurrent(null);
    },
  };
}
