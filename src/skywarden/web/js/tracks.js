// The live (or replayed) picture: track rows by id with short trails, drawn as three
// GeoJSON sources (trails, predicted paths, track symbols) that are rebuilt at most a few
// times a second, whatever the message rate. One symbol layer draws every track with
// shared milsymbol images, so 5,000 tracks cost a handful of draw calls, not 5,000 DOM nodes.
// Each update hands the whole picture to MapLibre's worker, so what is drawn per track is
// kept small: a point, a short trail (refreshed less often), and a predicted path only for
// tracks heading into another nation and for the selected track.

import { imageName, IDENTITY_RANK } from "./symbols.js";

const EMPTY = { type: "FeatureCollection", features: [] };
const TRAIL_POINTS = 12;      // positions kept per track
const TRAIL_EVERY = 3;        // trails are redrawn every third picture update
const SELECTED_AHEAD_S = 300; // predicted path drawn ahead of the selected track
const EARTH_M = 6371008.8;

const IDENTITY_COLOR = [
  "match", ["get", "identity"],
  "hostile", "#ff8080", "suspect", "#ff8080", "neutral", "#aaffaa",
  "friend", "#80e0ff", "assumed_friend", "#80e0ff",
  "#ffff80",
];
const LEVEL = ["coalesce", ["get", "level"], 0];  // absent on tracks with no open alert
const LEVEL_COLOR = ["match", LEVEL, 1, "#4aa3df", 2, "#e3c04a", 3, "#f08a34", "#ef4d55"];

// Rows of one picture (live or replayed), keyed by track id.
export class TrackStore {
  constructor() {
    this.rows = new Map();
    this.trails = new Map();
    this.time = null;
    this.version = 0;
  }

  clear() {
    this.rows.clear();
    this.trails.clear();
    this.version++;
  }

  // A stream "tracks" message: changed rows and ended ids.
  apply(message) {
    if (message.time != null) this.time = message.time;
    for (const row of message.tracks || []) this.put(row);
    for (const id of message.ended || []) {
      this.rows.delete(id);
      this.trails.delete(id);
    }
    this.version++;
  }

  put(row) {
    if (row.status === "deleted") {
      this.rows.delete(row.track);
      this.trails.delete(row.track);
      return;
    }
    const old = this.rows.get(row.track);
    if (old && old.time > row.time) return;
    this.rows.set(row.track, row);
    let trail = this.trails.get(row.track);
    if (!trail) this.trails.set(row.track, (trail = []));
    const last = trail[trail.length - 1];
    if (!last || last[0] !== row.lon || last[1] !== row.lat) {
      trail.push([row.lon, row.lat]);
      if (trail.length > TRAIL_POINTS) trail.shift();
    }
  }

  // Replace the picture with stored rows (time-ordered or not) up to time t.
  load(rows, t, maxAge = 60) {
    this.clear();
    const sorted = rows.filter((r) => r.time <= t).sort((a, b) => a.time - b.time);
    for (const row of sorted) this.put(row);
    for (const [id, row] of this.rows) {
      if (t - row.time > maxAge) {
        this.rows.delete(id);
        this.trails.delete(id);
      }
    }
    this.time = t;
    this.version++;
  }
}

// Run fn in a task of its own once the frame under way has been drawn (or after 100 ms
// where no frame comes, e.g. in a hidden tab).
function afterFrame(fn) {
  let done = false;
  const run = () => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    setTimeout(fn, 0);
  };
  const timer = setTimeout(run, 100);
  requestAnimationFrame(run);
}

// A trail without the points that lie on the straight line between their neighbours
// (within TRAIL_TOLERANCE_M, less than the tiles themselves keep at the source's maxzoom):
// a track flying straight is drawn from two points instead of twelve, a turn keeps its
// shape. Each point is handed to MapLibre's worker, so fewer points is less main-thread work.
const TRAIL_TOLERANCE_M = 5;
const TOLERANCE_DEG = (TRAIL_TOLERANCE_M / EARTH_M) * (180 / Math.PI);

export function simplify(line) {
  const n = line.length;
  if (n <= 2) return line;
  const kx = Math.cos((line[0][1] * Math.PI) / 180);
  const out = [line[0]];
  let from = 0;
  for (let to = 2; to < n; to++) {
    // Can the run from `from` reach `to` with every point in between on its chord?
    const [ax, ay] = line[from], [bx, by] = line[to];
    const dx = (bx - ax) * kx, dy = by - ay;
    const len = Math.hypot(dx, dy);
    let straight = true;
    for (let i = from + 1; i < to && straight; i++) {
      const px = (line[i][0] - ax) * kx, py = line[i][1] - ay;
      const off = len > 0 ? Math.abs(px * dy - py * dx) / len : Math.hypot(px, py);
      straight = off <= TOLERANCE_DEG;
    }
    if (!straight) {
      from = to - 1;
      out.push(line[from]);
    }
  }
  out.push(line[n - 1]);
  return out;
}

// Destination point from (lon, lat) going east/north by (de, dn) metres (flat-earth step,
// accurate to well under a pixel for the tens of kilometres drawn here).
function offset(lon, lat, de, dn) {
  const dLat = (dn / EARTH_M) * (180 / Math.PI);
  const dLon = (de / (EARTH_M * Math.cos((lat * Math.PI) / 180))) * (180 / Math.PI);
  return [lon + dLon, lat + dLat];
}

export class TrackLayers {
  constructor(map, { onSelect } = {}) {
    this.map = map;
    this.onSelect = onSelect || (() => {});
    this.selected = null;
    this.alertLevels = new Map();   // track id -> highest open alert level
    this.etaLabels = new Map();     // track id -> maplibregl.Marker (a few, capped)
    this.maxEtaLabels = 25;
    this.lastFlush = 0;
    this.minInterval = 1000;        // ms between picture updates: a 1 s refresh, as radar displays
    this.pending = false;
    this.store = null;
    this.renderedVersion = -1;
    this.flushes = 0;
    this.addLayers();
  }

  addLayers() {
    const map = this.map;
    for (const id of ["trails", "predicted", "tracks"]) {
      // A small tile buffer: symbols near tile edges are copied into fewer neighbours.
      map.addSource(id, { type: "geojson", data: EMPTY, promoteId: "id", buffer: 32, maxzoom: 12 });
    }
    map.addLayer({
      id: "trails", type: "line", source: "trails",
      // Plain joins and caps: round ones multiply the vertices of 5,000 trails.
      paint: { "line-color": IDENTITY_COLOR, "line-width": 1.2, "line-opacity": 0.45 },
    });
    map.addLayer({
      id: "leaders", type: "line", source: "predicted", filter: ["==", ["get", "kind"], "leader"],
      paint: { "line-color": IDENTITY_COLOR, "line-width": 1.6, "line-opacity": 0.9, "line-dasharray": [1, 1.5] },
    });
    map.addLayer({
      id: "entry-paths", type: "line", source: "predicted", filter: ["==", ["get", "kind"], "entry"],
      paint: {
        "line-color": "#f08a34", "line-width": 1.8, "line-dasharray": [2, 2],
        "line-opacity": ["interpolate", ["linear"], ["get", "probability"], 0, 0.35, 1, 1],
      },
    });
    map.addLayer({
      id: "entry-points", type: "circle", source: "predicted", filter: ["==", ["get", "kind"], "entry-point"],
      paint: {
        "circle-radius": 4, "circle-color": "#070b10",
        "circle-stroke-color": "#f08a34", "circle-stroke-width": 2,
      },
    });
    map.addLayer({
      id: "alert-rings", type: "circle", source: "tracks", filter: [">", LEVEL, 0],
      paint: {
        "circle-radius": 15, "circle-color": "rgba(0,0,0,0)",
        "circle-stroke-color": LEVEL_COLOR, "circle-stroke-width": 2.2, "circle-stroke-opacity": 0.9,
      },
    });
    map.addLayer({
      id: "selected-ring", type: "circle", source: "tracks", filter: ["==", ["get", "id"], ""],
      paint: {
        "circle-radius": 19, "circle-color": "rgba(95,179,230,0.12)",
        "circle-stroke-color": "#5fb3e6", "circle-stroke-width": 2,
      },
    });
    map.addLayer({
      id: "tracks", type: "symbol", source: "tracks",
      layout: {
        "icon-image": ["get", "icon"],
        "icon-allow-overlap": true,
        "icon-ignore-placement": true,
        "symbol-sort-key": ["get", "rank"],
        // Smaller when zoomed out, where thousands of tracks share the screen.
        "icon-size": ["interpolate", ["linear"], ["zoom"], 4, 0.6, 6, 0.8, 8, 1.1],
      },
      paint: { "icon-opacity": ["coalesce", ["get", "opacity"], 1] },
    });
    map.on("click", "tracks", (e) => {
      if (this.map.getCanvas().style.cursor === "crosshair") return;  // drawing
      const f = e.features && e.features[0];
      if (f) this.select(f.properties.id);
    });
    map.on("mouseenter", "tracks", () => {
      if (map.getCanvas().style.cursor !== "crosshair") map.getCanvas().style.cursor = "pointer";
    });
    map.on("mouseleave", "tracks", () => {
      if (map.getCanvas().style.cursor === "pointer") map.getCanvas().style.cursor = "";
    });
  }

  show(store) {
    this.store = store;
    this.renderedVersion = -1;
    this.schedule();
  }

  select(id) {
    this.selected = id;
    this.map.setFilter("selected-ring", ["==", ["get", "id"], id || ""]);
    this.onSelect(id ? this.store && this.store.rows.get(id) : null);
    this.schedule(true);
  }

  setAlertLevels(levels) {
    this.alertLevels = levels;
    this.schedule(true);
  }

  // Coalesce updates: at most one rebuild per minInterval, run in a task of its own just
  // after a frame has been drawn.
  schedule(force = false) {
    if (force) this.renderedVersion = -1;
    if (this.pending) return;
    this.pending = true;
    const wait = Math.max(0, this.minInterval - (performance.now() - this.lastFlush));
    setTimeout(() => afterFrame(() => {
      this.pending = false;
      this.flush();
    }), wait);
  }

  flush() {
    const store = this.store;
    if (!store || store.version === this.renderedVersion) return;
    const rebuilt = this.renderedVersion === -1;
    this.renderedVersion = store.version;
    this.lastFlush = performance.now();
    this.flushes++;
    const tracks = [];
    const entries = [];
    for (const row of store.rows.values()) {
      const id = row.track;
      const identity = row.identity || "unknown";
      const level = this.alertLevels.get(id) || 0;
      // Alert level and opacity only where they differ from none and 1: every property
      // of every track is copied to MapLibre's worker at each update.
      const properties = { id, icon: imageName(identity, row.class), rank: (IDENTITY_RANK[identity] ?? 4) * 10 + level };
      if (level) properties.level = level;
      if (row.status === "tentative") properties.opacity = 0.6;
      else if (row.status === "coasting") properties.opacity = 0.45;
      tracks.push({ type: "Feature", geometry: { type: "Point", coordinates: [row.lon, row.lat] }, properties });
      if (row.next_entry) entries.push(row);
    }
    const predicted = this.predicted(entries, store.rows.get(this.selected));
    const map = this.map;
    // Tracks and paths in one go, so their new tiles land together: with software
    // rendering a repaint, not the data, is the dear part. Each source's data is copied
    // to MapLibre's worker on the main thread, so the trails (every few updates) follow
    // in a task of their own once the next frame is drawn.
    map.getSource("tracks").setData({ type: "FeatureCollection", features: tracks });
    map.getSource("predicted").setData({ type: "FeatureCollection", features: predicted });
    if (rebuilt || this.flushes % TRAIL_EVERY === 0) {
      afterFrame(() => { if (this.store === store) map.getSource("trails").setData(this.trails(store)); });
    }
    this.updateEtaLabels(entries, store.time);
    if (this.selected) this.onSelect(store.rows.get(this.selected) || null);
  }

  trails(store) {
    const features = [];
    for (const [id, trail] of store.trails) {
      if (trail.length < 2) continue;
      const row = store.rows.get(id);
      features.push({
        type: "Feature",
        geometry: { type: "LineString", coordinates: simplify(trail) },
        properties: { identity: row ? row.identity : "unknown" },
      });
    }
    return { type: "FeatureCollection", features };
  }

  // Dashed paths to the predicted border entry (with the entry point), and the selected
  // track's straight-line path for the next minutes.
  predicted(entries, selected) {
    const features = [];
    for (const row of entries) {
      const ne = row.next_entry;
      const speed = Math.hypot(row.vel_e || 0, row.vel_n || 0);
      const dist = ne.distance_m != null ? ne.distance_m : speed * Math.max(0, ne.eta - row.time);
      if (!(speed > 0.5) || !(dist > 0)) continue;
      const end = offset(row.lon, row.lat, (row.vel_e / speed) * dist, (row.vel_n / speed) * dist);
      const props = { id: row.track, kind: "entry", probability: ne.probability ?? 1, nation: ne.nation };
      features.push({
        type: "Feature",
        geometry: { type: "LineString", coordinates: [[row.lon, row.lat], end] },
        properties: props,
      });
      features.push({
        type: "Feature",
        geometry: { type: "Point", coordinates: end },
        properties: { ...props, id: `${row.track}:entry`, kind: "entry-point" },
      });
    }
    if (selected && Math.hypot(selected.vel_e || 0, selected.vel_n || 0) > 0.5) {
      const ahead = offset(selected.lon, selected.lat, (selected.vel_e || 0) * SELECTED_AHEAD_S,
        (selected.vel_n || 0) * SELECTED_AHEAD_S);
      features.push({
        type: "Feature",
        geometry: { type: "LineString", coordinates: [[selected.lon, selected.lat], ahead] },
        properties: { id: `${selected.track}:ahead`, kind: "leader", identity: selected.identity || "unknown" },
      });
    }
    return features;
  }

  // ETA labels for the tracks that reach a border soonest (HTML, so a few dozen at most).
  updateEtaLabels(entries, now) {
    entries.sort((a, b) => a.next_entry.eta - b.next_entry.eta);
    const keep = new Set();
    for (const row of entries.slice(0, this.maxEtaLabels)) {
      keep.add(row.track);
      let marker = this.etaLabels.get(row.track);
      if (!marker) {
        const el = document.createElement("div");
        el.className = "eta-label";
        marker = new maplibregl.Marker({ element: el, anchor: "left", offset: [14, -10] });
        marker.setLngLat([row.lon, row.lat]).addTo(this.map);
        this.etaLabels.set(row.track, marker);
      }
      marker.setLngLat([row.lon, row.lat]);
      const left = row.next_entry.eta - (now ?? row.time);
      marker.getElement().textContent = `${row.next_entry.nation} ${formatEta(left)}`;
    }
    for (const [id, marker] of this.etaLabels) {
      if (!keep.has(id)) {
        marker.remove();
        this.etaLabels.delete(id);
      }
    }
  }
}

function formatEta(seconds) {
  const s = Math.max(0, Math.round(seconds));
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}`;
}
