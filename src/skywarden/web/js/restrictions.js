// The restriction editor: click points on the map to outline a polygon, set its vertical
// limits and time window, create it (POST /api/v1/restrictions); list and end restrictions.

import { escapeHtml, fromInputValue, toInputValue, utcDateTime } from "./format.js";

const EMPTY = { type: "FeatureCollection", features: [] };

export class RestrictionEditor {
  constructor(map, api, { now, onChanged }) {
    this.map = map;
    this.api = api;
    this.now = now;
    this.onChanged = onChanged || (() => {});
    this.points = [];
    this.drawing = false;
    this.form = document.getElementById("restriction-form");
    this.status = document.getElementById("draw-status");
    this.error = document.getElementById("restriction-error");
    this.hint = document.getElementById("draw-hint");
    this.list = document.getElementById("restrictions");
    this.empty = document.getElementById("restrictions-empty");
    this.addLayers();
    document.getElementById("draw-start").onclick = () => this.start();
    document.getElementById("draw-cancel").onclick = () => this.stop();
    document.getElementById("draw-undo").onclick = () => { this.points.pop(); this.redraw(); };
    this.form.onsubmit = (e) => { e.preventDefault(); this.save(); };
    this.list.addEventListener("click", (e) => {
      const button = e.target.closest("button[data-end]");
      if (button) this.end(button.dataset.end, button);
    });
    map.on("click", (e) => {
      if (!this.drawing) return;
      this.points.push([+e.lngLat.lng.toFixed(5), +e.lngLat.lat.toFixed(5)]);
      this.redraw();
    });
  }

  addLayers() {
    this.map.addSource("draft", { type: "geojson", data: EMPTY });
    this.map.addLayer({
      id: "draft-fill", type: "fill", source: "draft", filter: ["==", ["geometry-type"], "Polygon"],
      paint: { "fill-color": "#c9609a", "fill-opacity": 0.18 },
    });
    this.map.addLayer({
      id: "draft-line", type: "line", source: "draft", filter: ["!=", ["geometry-type"], "Point"],
      paint: { "line-color": "#ff7ac8", "line-width": 2 },
    });
    this.map.addLayer({
      id: "draft-points", type: "circle", source: "draft", filter: ["==", ["geometry-type"], "Point"],
      paint: { "circle-radius": 4, "circle-color": "#ff7ac8", "circle-stroke-color": "#070b10", "circle-stroke-width": 1.5 },
    });
  }

  start() {
    this.drawing = true;
    this.points = [];
    this.error.hidden = true;
    const now = this.now() ?? Date.now() / 1000;
    this.form.elements.start.value = toInputValue(now);
    this.form.elements.end.value = toInputValue(now + 2 * 3600);
    this.form.hidden = false;
    this.hint.hidden = false;
    this.map.doubleClickZoom.disable();
    this.map.getCanvas().style.cursor = "crosshair";
    this.redraw();
  }

  stop() {
    this.drawing = false;
    this.points = [];
    this.form.hidden = true;
    this.hint.hidden = true;
    this.map.doubleClickZoom.enable();
    this.map.getCanvas().style.cursor = "";
    this.redraw();
  }

  redraw() {
    const pts = this.points;
    const features = pts.map((p) => ({ type: "Feature", geometry: { type: "Point", coordinates: p }, properties: {} }));
    if (pts.length >= 3) {
      features.push({ type: "Feature", geometry: { type: "Polygon", coordinates: [[...pts, pts[0]]] }, properties: {} });
    } else if (pts.length === 2) {
      features.push({ type: "Feature", geometry: { type: "LineString", coordinates: pts }, properties: {} });
    }
    this.map.getSource("draft").setData({ type: "FeatureCollection", features });
    const n = pts.length;
    this.status.textContent = n < 3 ? `Click the map to add corners: ${n} of at least 3.` : `${n} corners.`;
    this.hint.textContent = n < 3 ? "Click the map to outline the restriction" : "Keep clicking to add corners, then create it in the panel";
    document.getElementById("restriction-save").disabled = n < 3;
  }

  feature() {
    const f = this.form.elements;
    const start = fromInputValue(f.start.value);
    const end = fromInputValue(f.end.value);
    if (start == null || end == null) throw new Error("start and end must be dates");
    if (end <= start) throw new Error("end must be after start");
    const iso = (t) => new Date(t * 1000).toISOString().replace(".000Z", "Z");
    const props = {
      name: f.name.value.trim(),
      type: f.type.value,
      floor: Number(f.floor.value),
      ceiling: Number(f.ceiling.value),
      units: f.units.value,
      start: iso(start),
      end: iso(end),
      applies_to: f.applies_to.value,
    };
    if (!(props.ceiling > props.floor)) throw new Error("the ceiling must be above the floor");
    return {
      type: "Feature",
      geometry: { type: "Polygon", coordinates: [[...this.points, this.points[0]]] },
      properties: props,
    };
  }

  async save() {
    this.error.hidden = true;
    const button = document.getElementById("restriction-save");
    try {
      const feature = this.feature();
      button.disabled = true;
      await this.api.post("/api/v1/restrictions", feature);
      this.stop();
      await this.load();
      this.onChanged();
    } catch (err) {
      this.error.textContent = err.message;
      this.error.hidden = false;
    } finally {
      button.disabled = this.points.length < 3 && this.drawing;
    }
  }

  async end(id, button) {
    button.disabled = true;
    try {
      await this.api.delete(`/api/v1/restrictions/${encodeURIComponent(id)}`);
      await this.load();
      this.onChanged();
    } catch (err) {
      button.disabled = false;
      button.textContent = `Failed: ${err.message}`;
    }
  }

  async load() {
    const data = await this.api.get("/api/v1/restrictions");
    const items = Array.isArray(data) ? data : data.restrictions || data.features || [];
    this.render(items.map(restrictionView));
  }

  render(items) {
    this.empty.hidden = items.length > 0;
    const canEnd = !document.getElementById("draw-start").classList.contains("no-role");
    this.list.innerHTML = items.map((r) => `<li data-id="${escapeHtml(r.id)}">
      <span class="what">${escapeHtml(r.name)}
        <span class="muted">${escapeHtml(r.limits)} · ${escapeHtml(r.window)}</span></span>
      ${canEnd ? `<button type="button" class="small secondary" data-end="${escapeHtml(r.id)}">End</button>` : ""}
    </li>`).join("");
  }
}

// A stored restriction (a GeoJSON Feature or a flat record) as what the list shows.
function restrictionView(r) {
  const feature = r.body && r.body.properties ? r.body : r;  // stored: {zone, body: Feature, ...}
  const p = feature.properties ? { ...feature.properties, id: r.zone ?? feature.properties.id ?? feature.id } : r;
  const limit = (v) => (v == null ? "?" : typeof v === "number" ? (p.units === "FL" ? `FL${v}` : `${v} m`) : String(v));
  const time = (v) => (v == null ? "open" : typeof v === "number" ? utcDateTime(v) : String(v));
  return {
    id: String(p.id ?? p.zone ?? ""),
    name: p.name || p.id || "restriction",
    limits: `${limit(p.floor)} – ${limit(p.ceiling)}`,
    window: `${time(p.start)} → ${time(p.end)}`,
  };
}
