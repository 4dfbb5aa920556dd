// Pending call-backs (SPEC §4 outbox, channel phone): a caller who left neither an e-mail nor a
// mobile hears the closing message from an operator. Each one is an li[data-outbox-id] in
// #callback-list with the number to call, the text to read out, a note and button[name=done]
// ("Fatto"), which closes it (POST /api/outbox/{id}/done {"note"}).
//
// The list (GET /api/outbox?channel=phone&status=pending) is read when the page opens, when the
// incident poll takes incidents off the map (resolving one queues its call-backs), after a
// "Fatto", and at least every ``everyMs``; not at each incident poll, since every reading of a
// caller's number goes into the audit trail. Items still pending are left as they are (a note
// being typed stays). Text goes in with textContent; the words come from the page's dictionary (words.js).
function geoUrpCallBacks(cfg, everyMs) {
  const W = geoUrpWords;
  const list = document.getElementById("callback-list");
  const count = document.getElementById("callback-count");
  const shown = new Map();  // outbox id -> li
  let timer = null, reading = false, again = false;

  const node = (tag, text, className) => {
    const el = document.createElement(tag);
    if (text != null) el.textContent = text;
    if (className) el.className = className;
    return el;
  };

  function since(at) {
    const minutes = Math.max(0, Math.floor((Date.now() - Date.parse(at)) / 60000));
    if (minutes < 60) return W.t("waited_minutes", {n: minutes});
    return W.t("waited_hours", {h: Math.floor(minutes / 60), m: String(minutes % 60).padStart(2, "0")});
  }

  function listed(item) {
    const li = node("li", null, "callback");
    li.dataset.outboxId = item.id;
    const who = node("div", null, "who");
    who.append(node("strong", item.to, "to"), node("span", W.t("callback_call", {report: item.report_id}) +
      (item.incident_id ? W.t("callback_incident", {id: item.incident_id}) : "") +
      W.t("callback_waiting", {since: since(item.created_at)})));
    const say = node("blockquote", item.text, "text");
    const note = node("input");
    note.name = "note";
    note.maxLength = 2000;
    note.placeholder = W.t("callback_note");
    note.setAttribute("aria-label", W.t("callback_note_label", {id: item.id}));
    const done = node("button", W.t("done"));
    done.type = "button";
    done.name = "done";
    done.addEventListener("click", () => markDone(item.id, li, note, done));
    const result = node("p", null, "result");
    result.setAttribute("role", "status");
    li.append(who, node("div", W.t("read_to_caller"), "hint"), say, note, done, result);
    return li;
  }

  function counted() {
    count.textContent = shown.size ? W.t("callbacks_count", {n: shown.size}) : W.t("callbacks_none");
  }

  async function markDone(id, li, note, button) {
    button.disabled = true;
    const result = li.querySelector(".result");
    try {
      const {resp, answer} = await geoUrpPostJson(geoUrpRoute(cfg.doneUrl, id), {note: note.value.trim()},
                                                  cfg.csrfToken);
      if (resp.ok) {
        li.remove();
        shown.delete(id);
        counted();
        refresh();
        return;
      }
      result.textContent = W.t("not_recorded", {why: geoUrpRefusal(resp, answer)});
    } catch (e) {
      result.textContent = W.t("not_recorded_unreachable");
    }
    button.disabled = false;
  }

  async function refresh() {
    if (reading) { again = true; return; }
    reading = true;
    clearTimeout(timer);
    try {
      const resp = await fetch(cfg.outboxUrl, {credentials: "same-origin", headers: {"Accept": "application/json"}});
      if (!resp.ok) {
        count.textContent = W.t("list_error", {status: resp.status});
      } else {
        const items = (await resp.json()).items.filter(i => i.channel === "phone" && i.status === "pending");
        const pending = new Set(items.map(i => i.id));
        for (const [id, li] of shown) if (!pending.has(id)) { li.remove(); shown.delete(id); }
        for (const item of items) {  // oldest first, as the service lists them: a new one goes last
          if (shown.has(item.id)) continue;
          shown.set(item.id, listed(item));
          list.append(shown.get(item.id));
        }
        counted();
      }
    } catch (e) {
      count.textContent = W.t("list_unreachable");
    }
    reading = false;
    timer = setTimeout(refresh, again ? 0 : everyMs);
    again = false;
  }

  refresh();
  return {refresh};
}
