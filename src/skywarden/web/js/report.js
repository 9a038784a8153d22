// Citizen reports: "Report a sighting", a click on the map where it was, a small form
// (what, seen or heard, direction of travel, how many, note, when), POST /api/v1/reports.
// The service takes it as a detection of a visual_report sensor; its refusals are shown
// next to the field they name.

import { escapeHtml, fromInputValue, toInputSeconds, utcClock } from "./format.js";

const EMPTY = { type: "FeatureCollection", features: [] };

// 16 compass points, clockwise from north, 22.5 degrees apart.
const COMPASS = ["N", "NNE", "NE", "ENE", "E", "ESE", "SE", "SSE",
  "S", "SSW", "SW", "WSW", "W", "WNW", "NW", "NNW"];
const WORDS = { NORTH: "N", EAST: "E", SOUTH: "S", WEST: "W" };

// Direction of travel as typed: "" (not known), degrees ("45", "45°", "360" is 0) or a
// compass point ("NE", "ssw", "north", "north-east"). Degrees out of range are sent as
// typed, for the service to refuse with its reason. Throws on anything else.
export function parseDirection(text) {
  const t = String(text ?? "").trim().toUpperCase();
  if (!t) return null;
  const deg = /^([+-]?\d+(\.\d+)?)\s*(°|DEG)?$/.exec(t);
  if (deg) {
    const d = Number(deg[1]);
    return d === 360 ? 0 : d;
  }
  const point = t.replace(/[\s-]+/g, " ").split(" ")
    .map((w) => WORDS[w] || w).join("");
  const i = COMPASS.indexOf(point);
  if (i < 0) throw new Error("degrees from north (0-359) or a compass point (N, NE, SSW ...)");
  return i * 22.5;
}

// Where an error of the service goes: its `field` ("time", "lat", ...) to a slot in the form.
function slotOf(field) {
  if (field === "lat" || field === "lon") return "where";
  return ["what", "heard", "direction_deg", "count", "time", "note"].includes(field) ? field : "";
}

export class SightingReport {
  constructor(map, api, { now, onStart }) {
    this.map = map;
    this.api = api;
    this.now = now;                     // the page's service clock (between fetches)
    this.onStart = onStart || (() => {});
    this.active = false;
    this.point = null;                  // [lon, lat]
    this.timeEdited = false;
    this.timeBase = null;               // [service now, performance.now()] from /time
    this.sent = [];                     // reports accepted on this page
    this.section = document.getElementById("report-section");
    this.form = document.getElementById("report-form");
    this.where = document.getElementById("report-where");
    this.hint = document.getElementById("report-hint");
    this.done = document.getElementById("report-done");
    this.sendButton = document.getElementById("report-send");
    this.addLayers();
    document.getElementById("report-start").onclick = () => this.start();
    document.getElementById("report-close").onclick = () => this.stop();
    document.getElementById("report-cancel").onclick = () => this.stop();
    document.getElementById("report-again").onclick = () => this.start();
    this.form.onsubmit = (e) => { e.preventDefault(); this.send(); };
    this.form.elements.time.addEventListener("input", () => { this.timeEdited = true; });
    map.on("click", (e) => {
      if (!this.active) return;
      this.place([+e.lngLat.lng.toFixed(5), +e.lngLat.lat.toFixed(5)]);
    });
    setInterval(() => this.tick(), 1000);
  }

  addLayers() {
    this.map.addSource("report", { type: "geojson", data: EMPTY });
    this.map.addLayer({
      id: "report-point", type: "circle", source: "report",
      paint: {
        "circle-radius": 7, "circle-color": "rgba(95,179,230,0.25)",
        "circle-stroke-color": "#5fb3e6", "circle-stroke-width": 2.5,
      },
    });
  }

  // Report mode: the next click on the map places the sighting.
  start() {
    this.onStart();
    this.active = true;
    this.point = null;
    this.clearErrors();
    this.section.hidden = false;
    this.done.hidden = true;
    this.form.hidden = true;
    this.where.textContent = "Click the map where you saw or heard it.";
    this.hint.hidden = false;
    this.map.doubleClickZoom.disable();
    this.map.getCanvas().style.cursor = "crosshair";
    this.draw();
    this.section.scrollIntoView({ block: "nearest" });
  }

  stop() {
    const wasActive = this.active;
    this.active = false;
    this.point = null;
    this.section.hidden = true;
    this.form.hidden = true;
    this.hint.hidden = true;
    if (wasActive) {
      this.map.doubleClickZoom.enable();
      this.map.getCanvas().style.cursor = "";
    }
    this.draw();
  }

  // A click in report mode: the point (again to move it), and the form, time set to now.
  place(point) {
    const first = !this.point;
    this.point = point;
    this.clearErrors();
    this.where.textContent = `At ${latLon(point)}. Click the map again to move it.`;
    this.draw();
    if (first) {
      this.form.reset();
      this.timeEdited = false;
      this.form.hidden = false;
      this.loadTime();
    }
  }

  draw() {
    const features = this.point
      ? [{ type: "Feature", geometry: { type: "Point", coordinates: this.point }, properties: {} }]
      : [];
    this.map.getSource("report").setData({ type: "FeatureCollection", features });
  }

  // The service clock's now (GET /api/v1/time), then kept running until the time is edited.
  async loadTime() {
    try {
      const time = await this.api.get("/api/v1/time");
      this.timeBase = [time.now, performance.now(), time.speed || 1];
    } catch (err) {
      console.warn("time:", err.message);
      this.timeBase = null;
    }
    this.tick();
  }

  serviceNow() {
    if (!this.timeBase) return this.now() ?? Date.now() / 1000;
    const [t, at, speed] = this.timeBase;
    return t + ((performance.now() - at) / 1000) * speed;
  }

  tick() {
    if (!this.active || this.form.hidden || this.timeEdited) return;
    const input = this.form.elements.time;
    if (document.activeElement !== input) input.value = toInputSeconds(this.serviceNow());
  }

  clearErrors() {
    for (const el of this.section.querySelectorAll("[data-error-for]")) {
      el.hidden = true;
      el.textContent = "";
    }
  }

  showError(slot, text) {
    const el = this.section.querySelector(`[data-error-for="${slot}"]`);
    el.textContent = text;
    el.hidden = false;
  }

  // The body for POST /api/v1/reports, or null after showing what is wrong.
  async body() {
    const f = this.form.elements;
    const body = {
      lat: this.point[1],
      lon: this.point[0],
      what: f.what.value,
      heard: f.heard.value === "true",
    };
    let ok = true;
    try {
      const direction = parseDirection(f.direction.value);
      if (direction != null) body.direction_deg = direction;
    } catch (err) {
      this.showError("direction_deg", err.message);
      ok = false;
    }
    if (f.count.value.trim() !== "") body.count = Number(f.count.value);
    const note = f.note.value.trim();
    if (note) body.note = note;
    if (this.timeEdited) {
      const t = fromInputValue(f.time.value);
      if (t == null) {
        this.showError("time", "a date and time (UTC)");
        ok = false;
      } else {
        body.time = t;
      }
    } else {
      // "Now" means when it is sent: ask the service's clock again.
      await this.loadTime();
      body.time = +this.serviceNow().toFixed(3);
    }
    return ok ? body : null;
  }

  async send() {
    if (!this.point) return;
    this.clearErrors();
    this.sendButton.disabled = true;
    try {
      const body = await this.body();
      if (!body) return;
      const answer = await this.api.post("/api/v1/reports", body);
      this.sent.push({ ...body, ...answer });
      this.confirm(body, answer);
    } catch (err) {
      const field = err.body && err.body.field;
      this.showError(slotOf(field), err.body && err.body.error ? err.body.error : err.message);
    } finally {
      this.sendButton.disabled = false;
    }
  }

  confirm(body, answer) {
    const point = [body.lon, body.lat];
    this.stop();
    this.section.hidden = false;
    this.done.hidden = false;
    this.where.textContent = "";
    const count = body.count && body.count > 1 ? `${body.count} × ` : "";
    const how = body.heard ? "heard" : "seen";
    document.getElementById("report-confirm").innerHTML =
      `<strong>Thank you: report sent.</strong> ${escapeHtml(count + body.what)} ${how} at `
      + `${escapeHtml(latLon(point))}, ${escapeHtml(utcClock(body.time))}`
      + `${answer && answer.sensor ? ` (taken as <code>${escapeHtml(answer.sensor)}</code>)` : ""}.`;
  }
}

function latLon([lon, lat]) {
  return `${Math.abs(lat).toFixed(4)}° ${lat >= 0 ? "N" : "S"}, ${Math.abs(lon).toFixed(4)}° ${lon >= 0 ? "E" : "W"}`;
}
