// One way the operator's console posts to the /api/ routes: JSON with the login session and the
// page's CSRF token (X-CSRFToken), and one way of telling a refusal in the reader's words. The incident panel
// and the call-backs use it (the call intake has its own, for Open311's error list).
function geoUrpPostJson(url, body, csrfToken) {
  return fetch(url, {method: "POST", credentials: "same-origin", body: JSON.stringify(body),
                     headers: {"Content-Type": "application/json", "Accept": "application/json",
                               "X-CSRFToken": csrfToken}})
    .then(async resp => ({resp, answer: await resp.json().catch(() => null)}));
}

// Why a post was refused, to show the operator: the session or the page expired, else the
// service's own words (they name the field and what it expected).
function geoUrpRefusal(resp, answer) {
  const said = answer && typeof answer.error === "string" ? answer.error : "";
  if (resp.status === 401) return geoUrpWords.t("session_expired");
  if (/CSRF/.test(said)) return geoUrpWords.t("page_expired");
  return said || geoUrpWords.t("error_status", {status: resp.status});
}

// "/api/x/0/y" with the 0 replaced by ``id``: the page is given each route once, built by Flask.
function geoUrpRoute(template, id) {
  return template.replace("/0/", `/${encodeURIComponent(id)}/`);
}
