// The council's time slider: recolour the hotspot cells by one month's reports, or by their
// class over the whole period (slider at 0). The cells are the Folium layer named in
// section#hotspots (data-cells); each cell carries its class and, per month, its count (null
// when under the council's threshold: such a cell is drawn as having none to show).
(function () {
  "use strict";
  var section = document.getElementById("hotspots");
  if (!section) return;
  var cells = window[section.dataset.cells];
  var months = JSON.parse(section.dataset.months || "[]") || [];
  var slider = document.getElementById("hotspot-month");
  var label = document.getElementById("hotspot-month-label");
  var wholePeriod = label.textContent;
  var CLASS_COLOURS = { hot: "#d7191c", cold: "#2c7bb6", none: "#999999" };
  var SCALE = ["#fee5d9", "#fcae91", "#fb6a4a", "#de2d26", "#a50f15"];
  if (!cells || !slider) return;

  function classStyle(feature) {
    var cls = feature.properties["class"];
    return { color: CLASS_COLOURS[cls], weight: cls === "none" ? 1 : 2, fillColor: CLASS_COLOURS[cls],
             fillOpacity: cls === "none" ? 0.05 : 0.45 };
  }

  function monthStyle(k, top) {
    return function (feature) {
      var n = feature.properties.monthly ? feature.properties.monthly[k] : null;
      if (n === null || n === undefined || top === 0) {
        return { color: "#999999", weight: 1, fillColor: "#999999", fillOpacity: 0.02 };
      }
      var step = Math.min(SCALE.length - 1, Math.floor((n / top) * SCALE.length));
      return { color: "#555555", weight: 1, fillColor: SCALE[step], fillOpacity: 0.6 };
    };
  }

  function show() {
    var k = parseInt(slider.value, 10) - 1;
    if (k < 0 || k >= months.length) {
      cells.setStyle(classStyle);
      label.textContent = wholePeriod;
      section.dataset.showing = "period";
      return;
    }
    var top = 0;
    cells.eachLayer(function (layer) {
      var n = layer.feature.properties.monthly ? layer.feature.properties.monthly[k] : null;
      if (n !== null && n !== undefined && n > top) top = n;
    });
    cells.setStyle(monthStyle(k, top));
    label.textContent = months[k];
    section.dataset.showing = months[k];
  }

  slider.addEventListener("input", show);
  show();
})();
