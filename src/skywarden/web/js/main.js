// The web map's wiring, read top to bottom: sign in, build the map, load the base layers,
// alerts and restrictions, then follow the live stream. `window.skywarden` exposes the
// parts for the browser tests and the map benchmark.

import { Api } from "./api.js";
import { AlertPanel } from "./alerts.js";
import { createMap, loadBorders, loadZones, whenLoaded } from "./basemap.js";
import { utcClock } from "./format.js";
import { RestrictionEditor } from "./restrictions.js";
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
      if (row) layers.select(row.track);
    },
    onChange: (panel) => layers.setAlertLevels(panel.levelsByTrack()),
  });
  const editor = new RestrictionEditor(map, api, {
    now,
    onChanged: () => loadZones(map, api).catch((err) => console.warn("zones:", err.message)),
  });
  const slider = new TimeSlider(api, replayed, {
    now: () => now() ?? Date.now() / 1000,
    onReplay: (store) => { setMode("replay"); layers.show(store); },
    onLive: () => { setMode("live"); layers.show(live); },
  });
  Object.assign(app, { api, me, live, replayed, layers, alerts, editor, slider, now });

  await Promise.all([
    loadBorders(map).catch((err) => console.warn("borders:", err.message)),
    loadZones(map, api).catch((err) => console.warn("zones:", err.message)),
    alerts.load().catch((err) => console.warn("alerts:", err.message)),
    editor.load().catch((err) => console.warn("restrictions:", err.message)),
  ]);

  let fitted = false;
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
      }
    },
    onAlert: (event) => alerts.onEvent(event),
    onState: (state) => {
      const link = document.getElementById("link");
      link.textContent = state === "up" ? "live" : "reconnecting";
      link.className = `link ${state}`;
      if (state === "up") alerts.load().catch(() => {});
    },
  });
  app.stream = stream;
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
