// A layer of the town the page does not carry, drawn when its reader ticks it in the layer control:
// thousands of civic numbers nobody looks at on most calls would otherwise be parsed with every page.
// Its GeoJSON is fetched once, at the first tick (GET /api/layers/<layer>); points are drawn as
// small circles as the server's map draws its point layers, each with a tooltip of its `tip`
// properties set as text (street names come from files anyone may have edited). Should the fetch
// fail, the layer stays empty and the next tick asks again.
function geoUrpOnDemandLayer(map, control, name, url, look) {
  const layer = L.geoJSON(null, {
    pointToLayer: (_, latlng) => L.circleMarker(latlng, {radius: look.radius, color: "#333", weight: 1,
                                                         fillColor: look.colour, fill: true, fillOpacity: 0.9}),
    onEachFeature: (f, l) => {
      const tip = document.createElement("span");
      tip.textContent = look.tip.map(key => f.properties[key] ?? "").join(" ");
      l.bindTooltip(tip);
    },
  });
  let asked = false;
  layer.on("add", async () => {
    if (asked) return;
    asked = true;
    try {
      const resp = await fetch(url, {credentials: "same-origin", headers: {"Accept": "application/geo+json"}});
      if (!resp.ok) throw new Error(String(resp.status));
      layer.addData(await resp.json());
    } catch (e) {
      asked = false;
    }
  });
  control.addOverlay(layer, name);  // the server's own words: the control writes them as HTML
  return layer;
}
