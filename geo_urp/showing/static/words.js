// The page's words in the reader's language: the dictionary the server writes into
// script#page-words (showing/wording.py, page_words), read once. No script holds a word of its own:
//   geoUrpWords.t("key", {name: value})   the text, %(name)s filled in;
//   geoUrpWords.n("key", count, {...})    its singular or plural by count (%(n)s is the count);
//   geoUrpWords.locale, geoUrpWords.zone  how dates are written, and the towns' time zone.
const geoUrpWords = (function () {
  "use strict";
  const el = document.getElementById("page-words");
  const dict = el ? JSON.parse(el.textContent) : {};
  const fill = (text, args) => text.replace(/%\((\w+)\)s/g, (whole, name) =>
    (args && Object.prototype.hasOwnProperty.call(args, name) ? String(args[name]) : whole));
  function t(key, args) {
    const text = dict[key];
    if (text == null) return key;
    return fill(typeof text === "string" ? text : text.other, args);
  }
  function n(key, count, args) {
    const text = dict[key];
    if (text == null) return key;
    const form = typeof text === "string" ? text : (count === 1 ? text.one : text.other);
    return fill(form, {n: count, ...args});
  }
  return {t, n, locale: dict._locale || "it-IT", zone: dict._zone || "Europe/Rome"};
}());
