// Pending call-backs (SPEC §4 outbox, channel phone): a caller who left neither an e-mail nor a
// mobile hears the closing message from an operator. Each one is an li[data-outbox-id] in
// #callback-list with the number to call, the text to read out, a note and button[name=done]
// ("Fatto"), which closes it (POST /api/outbox/{id}/done {"note"}).
//
// The list (GET /api/outbox?channel=phone&status=pending) is read when the page opens, when the
// incident poll takes incidents off the map (resolving one queues its call-backs), after a
// "Fatto", and at least every ``everyMs``; not at each incident poll, since every reading of a
// caller's number goes into the audit trail. Items still pending are left as they are (a note
// being typed stays). Text goes in with textContent.
function geoUrpCallBacks(cfg, everyMs) {
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
    if (minutes < 60) return `${minutes} min`;
    return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, "0")} min`;
  }

  function listed(item) {
    const li = node("li", null, "callback");
    li.dataset.outboxId = item.id;
    const who = node("div", null, "who");
    who.append(node("strong", item.to, "to"), node("span", ` · chiamata ${item.report_id}` +
      (item.incident_id ? ` · incidente #${item.incident_id}` : "") + ` · in attesa da ${since(item.created_at)}`));
    const say = node("blockquote", item.text, "text");
    const note = node("input");
    note.name = "note";
    note.maxLength = 2000;
    note.placeholder = "nota (facoltativa): chi ha risposto, esito";
    note.setAttribute("aria-label", `Nota sul riscontro ${item.id}`);
    const done = node("button", "Fatto");
    done.type = "button";
    done.name = "done";
    done.addEventListener("click", () => markDone(item.id, li, note, done));
    const result = node("p", null, "result");
    result.setAttribute("role", "status");
    li.append(who, node("div", "Da leggere al chiamante:", "hint"), say, note, done, result);
    return li;
  }

  function counted() {
    count.textContent = shown.size ? `${shown.size} da fare` : "nessuno da fare";
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
      result.textContent = `Non registrato: ${geoUrpRefusal(resp, answer)}`;
    } catch (e) {
      result.textContent = "Non registrato: servizio non raggiungibile, riprova.";
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
        count.textContent = `errore ${resp.status}: elenco non aggiornato`;
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
      count.textContent = "servizio non raggiungibile: elenco non aggiornato";
    }
    reading = false;
    timer = setTimeout(refresh, again ? 0 : everyMs);
    again = false;
  }

  refresh();
  return {refresh};
}
