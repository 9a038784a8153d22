// The web map's wiring, read top to bottom: sign in, build the map, load the base layers,
// alerts and restrictions, then follow the live stream. `window.skywarden` exposes the
// parts for the browser tests and the map benchmark.

import { Api } from "./api.js";
import { AlertPanel } from "./alerts.js";
import { createMap, loadBorders, loadZones, whenLoaded } from "./basemap.js";
import { utcClock } from "./format.js";
import { SightingReport } from "./report.js";
import { RestrictionEditor } from "./restrictions.js";
import { SensorPanel } from "./sensors.js";
import { TimeSlider } from "./replay.js";
import { forgetToken, signIn, storedToken } from "./session.js";
import { LiveStream } from "./stream.js";
import { addSymbolImages } from "./symbols.js";
import { showTrack } from "./trackcard.js";
import { TrackLayers, TrackStore } from "./tracks.js";

const app = { ready: false };
window.skywarden = app;

// Service time: the clock of the server (simulated in a demo), advanced locally between
// messages at the server's speed.
const clock = { base: null, at: 0, speed: 1 };
function now() {
  return clock.base == null ? null : clock.base + ((performance.now() / 1000) - clock.at) * clock.speed;
}
function setTime(t) {
  if (t == null) return;
  clock.base = t;
  clock.at = performance.now() / 1000;
}

async function checkToken(token) {
  return new Api(token).get("/api/v1/me");
}

async function session() {
  let token = storedToken();
  let me = null;
  if (token) {
    try { me = await checkToken(token); } catch (err) {
      if (err.status === 401) forgetToken();
      else throw err;
      token = "";
    }
  }
  if (!me) [token, me] = await signIn(checkToken);
  return [token, me];
}

function signOut() {
  forgetToken();
  location.reload();
}

async function main() {
  const [token, me] = await session();
  const api = new Api(token, { onUnauthorized: () => { forgetToken(); location.reload(); } });
  const roles = me.roles || [];
  const operator = roles.includes("operator") || roles.includes("admin");
  document.getElementById("who").textContent = `${me.organisation || ""}${me.nation ? ` · ${me.nation}` : ""}`;
  const signOutButton = document.getElementById("sign-out");
  signOutButton.hidden = false;
  signOutButton.onclick = signOut;
  for (const el of document.querySelectorAll(".operator-only")) el.classList.toggle("no-role", !operator);

  try {
    const time = await api.get("/api/v1/time");
    setTime(time.now);
    clock.speed = time.speed || 1;
    if (time.demo) {
      const label = document.getElementById("demo-label");
      label.textContent = `DEMO ${time.demo} ×${clock.speed}`;
      label.hidden = false;
    }
  } catch (err) {
    console.warn("time:", err.message);
  }

  const map = createMap("map");
  app.map = map;
  await whenLoaded(map);
  addSymbolImages(map);

  const live = new TrackStore();
  const replayed = new TrackStore();
  let selected = null;
  const layers = new TrackLayers(map, {
    onSelect: (row) => { selected = row; showTrack(row, now()); },
  });
  layers.show(live);
  document.getElementById("track-close").onclick = () => layers.select(null);

  const alerts = new AlertPanel(api, {
    // Operators acknowledge their own nation's alerts; administrators any.
    canAcknowledge: (alert) => roles.includes("admin") || (operator && (!me.nation || alert.nation === me.nation)),
    onLocate: (alert) => {
      const row = alert.track && layers.store.rows.get(alert.track);
      const last = alert.last || {};
      const at = row ? [row.lon, row.lat] : last.lon != null ? [last.lon, last.lat] : null;
      if (at) map.easeTo({ center: at, zoom: Math.max(map.getZoom(), 7) });
      // A track outside the stream's box arrives once the map has moved there.
      if (alert.track) layers.select(alert.track);
    },
    onChange: (panel) => layers.setAlertLevels(panel.levelsByTrack()),
  });
  const editor = new RestrictionEditor(map, api, {
    now,
    onChanged: () => loadZones(map, api).catch((err) => console.warn("zones:", err.message)),
  });
  const report = new SightingReport(map, api, { now, onStart: () => editor.stop() });
  const drawStart = document.getElementById("draw-start");
  const startDrawing = drawStart.onclick;
  drawStart.onclick = () => { report.stop(); startDrawing(); };
  const slider = new TimeSlider(api, replayed, {
    now: () => now() ?? Date.now() / 1000,
    onReplay: (store) => { setMode("replay"); layers.show(store); },
    onLive: () => { setMode("live"); layers.show(live); },
  });
  const sensors = new SensorPanel(api, { operator, now });
  Object.assign(app, { api, me, live, replayed, layers, alerts, editor, report, slider, sensors, now });

  await Promise.all([
    loadBorders(map).catch((err) => console.warn("borders:", err.message)),
    loadZones(map, api).catch((err) => console.warn("zones:", err.message)),
    alerts.load().catch((err) => console.warn("alerts:", err.message)),
    editor.load().catch((err) => console.warn("restrictions:", err.message)),
  ]);
  sensors.start();

  // The stream carries every track until the first ones are framed (or the operator has
  // moved the map), then only those in and around the view: the box follows the map.
  let fitted = false;
  let boxTimer = null;
  const followView = () => {
    clearTimeout(boxTimer);
    boxTimer = setTimeout(() => stream.setBBox(viewBBox(map)), 250);
  };
  map.on("moveend", (e) => {
    if (e.originalEvent) fitted = true;
    if (fitted) followView();
  });
  const counts = document.getElementById("counts");
  const stream = new LiveStream(api, {
    onHello: (m) => setTime(m.time),
    onTracks: (m) => {
      setTime(m.time);
      live.apply(m);
      if (layers.store === live) layers.schedule();
      if (!fitted && live.rows.size > 0) {
        fitted = true;
        fitTo(map, live);
        followView();
      }
    },
    onAlert: (event) => alerts.onEvent(event),
    onAlertWithdrawn: (id) => alerts.withdraw(id),
    onState: (state) => {
      const link = document.getElementById("link");
      link.textContent = state === "up" ? "live" : "reconnecting";
      link.className = `link ${state}`;
      if (state === "up") alerts.load().catch(() => {});
    },
  });
  Object.assign(app, { stream, viewBBox: () => viewBBox(map) });
  stream.open();

  setInterval(() => {
    const t = now();
    document.getElementById("clock").textContent = utcClock(slider.time ?? t);
    counts.textContent = `${layers.store ? layers.store.rows.size : 0} tracks`;
    alerts.now = t;
    slider.refresh();
    if (selected) showTrack(selected, t);
  }, 1000);
  app.ready = true;
}

function setMode(mode) {
  const el = document.getElementById("mode");
  el.textContent = mode === "live" ? "LIVE" : "REPLAY";
  el.className = `mode ${mode}`;
}

// The box the stream is asked for: the view and a quarter of it on each side (a short pan
// shows tracks at once), longitudes wrapped into -180..180 (west > east crosses the 180th
// meridian); null (everything) when the view spans the whole world.
function viewBBox(map, margin = 0.25) {
  const b = map.getBounds();
  let w = b.getWest(), e = b.getEast();
  const dx = (e - w) * margin, dy = (b.getNorth() - b.getSouth()) * margin;
  w -= dx; e += dx;
  if (e - w >= 360) return null;
  const wrap = (x) => ((((x + 180) % 360) + 360) % 360) - 180;
  const round = (x) => Math.round(x * 1e4) / 1e4;
  const s = Math.max(-90, b.getSouth() - dy), n = Math.min(90, b.getNorth() + dy);
  return [round(wrap(w)), round(s), round(wrap(e)), round(n)];
}

// Once, when the first tracks arrive: frame them (but never zoom in closer than a region).
function fitTo(map, store) {
  let w = 180, s = 90, e = -180, n = -90;
  for (const r of store.rows.values()) {
    w = Math.min(w, r.lon); e = Math.max(e, r.lon);
    s = Math.min(s, r.lat); n = Math.max(n, r.lat);
  }
  if (w > e) return;
  map.fitBounds([[w - 1, s - 0.7], [e + 1, n + 0.7]], { padding: 60, maxZoom: 6.5, duration: 0 });
}

main().catch((err) => {
  console.error(err);
  const box = document.getElementById("signin-error");
  box.textContent = `The map could not start: ${err.message}`;
  box.hidden = false;
  document.getElementById("signin").hidden = false;
});
