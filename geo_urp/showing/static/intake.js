// Call intake on the operator's console (SPEC §6): form#intake, its inputs named as the Open311
// POST fields, saved through POST /open311/v2/requests.json with the login session and the page's
// CSRF token; the new service_request_id is shown in #intake-result, the form is cleared and the
// focus goes back to its first field for the next call.
//
// Where the call is comes from intake_place.js (geocoding preview, alternatives, the town): a
// picked place is sent as its label in address_string, which the service geocodes again (only if
// it finds that label ambiguous is the picked point sent as lat/long); a click on the map as
// lat/long. An address typed but not picked is left to the service's geocoder. As
// soon as the service and the place are known, the open incidents of the same family nearby are
// shown (GET /api/incidents/nearby): "Probabilmente il circuito C1 spento in Via Roma, 3 chiamate:
// aggiungere questa?". Answering yes moves the saved call into that incident
// (POST /api/reports/{id}/move): the operator's judgement, which the grouping rules then keep.
// The questions of the chosen service (Open311 attributes) are asked below the description.
//
// An information request is answered during the call: it needs no place and is stored closed with
// the answer given (attribute[answer]); logged without an address, it is stored without a place.
//
// Keyboard: F2 goes to the form for a new call, Ctrl+Enter saves from any field, Enter in the
// address picks a place (never saves), Esc closes the suggestions. Text is set with textContent; the
// words come from the page's dictionary (words.js).
function geoUrpIntake(mapName, cfg) {
  const FIELDS = ["service_code", "jurisdiction_id", "address_string", "description", "first_name",
                  "last_name", "phone", "email", "lat", "long", "language"];
  const W = geoUrpWords;
  const LABELLED = [...FIELDS, "requested_datetime"];
  const label = field => (LABELLED.includes(field) ? W.t(`field_${field}`) : "");
  const INFO = "info_request";
  const map = window[mapName];
  const form = document.getElementById("intake");
  const el = name => form.elements.namedItem(name);
  const services = JSON.parse(document.getElementById("intake-services").textContent);
  const towns = JSON.parse(document.getElementById("intake-towns").textContent);
  const attrsBox = document.getElementById("intake-attributes");
  const nearbyBox = document.getElementById("intake-nearby");
  const errorBox = document.getElementById("intake-error");
  const result = document.getElementById("intake-result");
  const button = form.querySelector("button[type=submit]");
  let nearbySeq = 0, saving = false;
  const place = geoUrpPlacePicker(map, form, {...cfg, towns}, () => checkNearby());

  const text = (tag, content, className) => {
    const node = document.createElement(tag);
    node.textContent = content;
    if (className) node.className = className;
    return node;
  };

  function attributeInput(a) {
    let input;
    if (a.datatype === "singlevaluelist" || a.datatype === "multivaluelist") {
      input = document.createElement("select");
      input.multiple = a.datatype === "multivaluelist";
      if (!input.multiple) {
        const none = text("option", "\u2014");
        none.value = "";
        input.append(none);
      }
      for (const v of a.values || []) {
        const option = text("option", v.name);
        option.value = v.key;
        input.append(option);
      }
    } else if (a.datatype === "text") {
      input = document.createElement("textarea");
      input.rows = 2;
    } else {
      input = document.createElement("input");
      if (a.datatype === "number") input.inputMode = "decimal";
    }
    input.name = `attribute[${a.code}]`;
    if (a.datatype_description) input.placeholder = a.datatype_description;
    return input;
  }

  function renderAttributes() {
    attrsBox.replaceChildren();
    const service = services.find(s => s.service_code === el("service_code").value);
    if (!service) return;
    if (service.service_code === INFO) {
      attrsBox.append(text("p", W.t("info_request_hint"), "hint"));
    }
    for (const a of [...service.attributes].sort((x, y) => x.order - y.order)) {
      if (!a.variable) continue;
      const label = text("label", a.description + (a.required ? " *" : ""));
      label.append(attributeInput(a));
      attrsBox.append(label);
    }
  }

  const KINDS = ["lamp", "lighting_circuit", "lighting_cabinet", "water_main_burst", "water_outage", "flooding",
                 "road_damage", "noise", "social_distress"];

  function sentence(inc) {
    const kind = KINDS.includes(inc.kind) ? inc.kind : "other";
    const what = W.t(`near_${kind}`, {asset: inc.asset_ids[0] || ""}).replace(/\s+$/, "");
    return W.t("near_sentence", {what, where: inc.street ? W.t("near_in_street", {street: inc.street}) : "",
                                 calls: W.n("calls", inc.report_count), id: inc.id, m: Math.round(inc.distance_m)});
  }

  function choice(value, label, checked) {
    const row = document.createElement("label");
    const radio = document.createElement("input");
    radio.type = "radio";
    radio.name = "join_incident";  // not an Open311 field: never posted, it decides the move after saving
    radio.value = value;
    radio.checked = checked;
    row.append(radio, text("span", label));
    return row;
  }

  async function checkNearby() {
    const my = ++nearbySeq, p = place.current(), code = el("service_code").value;
    const town = (p && p.town) || place.town();
    nearbyBox.replaceChildren();
    if (!p || !code || code === INFO || !town) return;
    const query = new URLSearchParams({service_code: code, lat: p.lat.toFixed(7), long: p.lon.toFixed(7),
                                       jurisdiction_id: town.slug});
    let body = null;
    try {
      const resp = await fetch(`${cfg.nearbyUrl}?${query}`, {credentials: "same-origin",
                                                              headers: {"Accept": "application/json"}});
      body = resp.ok ? await resp.json() : null;
    } catch (e) {
      body = null;
    }
    if (my !== nearbySeq || !body || !body.incidents.length) return;
    nearbyBox.append(text("strong", W.t("near_warning")));
    for (const inc of body.incidents) {
      const row = choice(String(inc.id), sentence(inc), false);
      row.dataset.incidentId = inc.id;
      if (inc.explanation) row.title = inc.explanation;
      nearbyBox.append(row);
    }
    nearbyBox.append(choice("", W.t("near_no"), true));
  }

  function fail(message, field) {
    errorBox.textContent = message;
    if (field && el(field) && el(field).type !== "hidden") el(field).focus();
  }

  function problem(status, answer) {
    const description = Array.isArray(answer) && answer[0] ? String(answer[0].description)
                                                           : W.t("error_status", {status});
    // The Open311 error texts come in the login's language (a lapsed login's in English).
    if (status === 401 || /^api_key (was not provided|non è stato fornito)/.test(description)) {  // login expired
      return W.t("intake_session_expired");
    }
    if (/CSRF/.test(description)) return W.t("intake_page_expired");
    const field = label(description.split(/[\s[]/)[0]);
    return W.t("intake_refused", {field: field ? ` (${field})` : "", why: description});
  }

  const ambiguous = answer => Array.isArray(answer) && answer[0] &&
    /^address_string .* (is ambiguous|è ambiguo)/.test(String(answer[0].description));

  async function postJson(url, body) {
    const resp = await fetch(url, {method: "POST", credentials: "same-origin", body: JSON.stringify(body),
                                   headers: {"Content-Type": "application/json", "Accept": "application/json",
                                             "X-CSRFToken": cfg.csrfToken}});
    return {resp, answer: await resp.json().catch(() => null)};
  }

  async function moveInto(reportId, incidentId) {
    const {resp, answer} = await postJson(cfg.moveUrl.replace("/0/", `/${encodeURIComponent(reportId)}/`),
                                          {incident_id: Number(incidentId)});
    if (resp.ok) return W.t("intake_joined", {id: answer.id});
    return W.t("intake_not_joined", {id: incidentId,
                                     why: (answer && answer.error) || W.t("error_status", {status: resp.status})});
  }

  function submission() {
    const body = {};
    for (const name of FIELDS) {
      const value = el(name).value.trim();
      if (value) body[name] = value;
    }
    for (const input of attrsBox.querySelectorAll("[name^='attribute[']")) {
      const value = input.multiple ? [...input.selectedOptions].map(o => o.value) : input.value.trim();
      if (value.length) body[input.name] = value;
    }
    return body;
  }

  function clearForm() {
    form.reset();
    renderAttributes();
    place.clear();
    nearbySeq++;
    nearbyBox.replaceChildren();
    errorBox.textContent = "";
  }

  function show(receipt, joined) {
    result.replaceChildren();
    result.dataset.serviceRequestId = receipt.service_request_id;
    result.append(W.t("intake_saved"), text("strong", receipt.service_request_id), joined || "");
    if (receipt.service_notice) result.append(text("div", receipt.service_notice, "hint"));
  }

  async function save() {
    if (saving) return;
    errorBox.textContent = "";
    const body = submission(), info = body.service_code === INFO;
    if (!body.service_code) return fail(W.t("choose_service"), "service_code");
    if (!place.town()) return fail(W.t("choose_town"), "jurisdiction_id");
    if (!body.lat && !body.address_string && !info) return fail(W.t("say_where"), "address_string");
    const join = info ? "" : (form.querySelector("input[name=join_incident]:checked") || {}).value;
    saving = true;
    button.disabled = true;
    result.replaceChildren();
    delete result.dataset.serviceRequestId;
    try {
      let {resp, answer} = await postJson(cfg.postUrl, body);
      const picked = place.current();
      if (resp.status === 400 && !body.lat && picked && picked.picked && picked.kind && ambiguous(answer)) {
        // the label picked names more than one place for the service: send the point that was picked
        ({resp, answer} = await postJson(cfg.postUrl, {...body, lat: picked.lat.toFixed(7),
                                                       long: picked.lon.toFixed(7)}));
      }
      if (!resp.ok || !Array.isArray(answer) || !answer[0]) return fail(problem(resp.status, answer));
      const joined = join ? await moveInto(answer[0].service_request_id, join) : "";
      clearForm();
      show(answer[0], joined);
      el("service_code").focus();
    } catch (e) {
      fail(W.t("intake_unreachable"));
    } finally {
      saving = false;
      button.disabled = false;
    }
  }

  el("service_code").addEventListener("change", () => { renderAttributes(); checkNearby(); });
  form.addEventListener("submit", e => { e.preventDefault(); save(); });
  form.addEventListener("keydown", e => {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); save(); }
  });
  document.addEventListener("keydown", e => {
    if (e.key === "F2") { e.preventDefault(); el("service_code").focus(); }
  });
  renderAttributes();
}
