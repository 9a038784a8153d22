// The sensors section: every sensor the viewer may see (GET /api/v1/sensors), down ones
// first, with how long ago it was last heard; for operators also the site's feeds
// (GET /api/v1/feeds): connected or not, and how many units were rejected. Refreshed
// every few seconds; a failed refresh keeps the last list.

import { duration } from "./format.js";

const ORDER = { down: 0, unknown: 1, up: 2 };

export class SensorPanel {
  constructor(api, { operator, now }) {
    this.api = api;
    this.operator = operator;
    this.now = now;
    this.list = document.getElementById("sensors");
    this.badge = document.getElementById("sensor-down");
    this.sensors = [];
    this.feeds = new Map();
  }

  async load() {
    this.sensors = await this.api.get("/api/v1/sensors");
    if (this.operator) {
      try {
        const feeds = await this.api.get("/api/v1/feeds");
        this.feeds = new Map(feeds.map((f) => [f.name, f]));
      } catch (err) {
        console.warn("feeds:", err.message);
      }
    }
    this.render();
  }

  start(periodMs = 5000) {
    const tick = () => this.load().catch((err) => console.warn("sensors:", err.message));
    tick();
    this.timer = setInterval(tick, periodMs);
  }

  render() {
    const rows = [...this.sensors].sort(
      (a, b) => (ORDER[a.status] ?? 3) - (ORDER[b.status] ?? 3) || a.id.localeCompare(b.id));
    const down = rows.filter((s) => s.status === "down").length;
    this.badge.textContent = String(down);
    this.badge.classList.toggle("hot", down > 0);
    this.badge.title = `${down} sensor(s) down of ${rows.length}`;
    const now = this.now();
    this.list.replaceChildren(...rows.map((s) => this.item(s, now)));
  }

  item(s, now) {
    const li = document.createElement("li");
    li.className = `sensor ${s.status}`;
    li.dataset.sensor = s.id;
    const dot = document.createElement("span");
    dot.className = "dot";
    dot.title = s.status;
    const what = document.createElement("span");
    what.className = "what";
    const name = document.createElement("b");
    name.textContent = s.id;
    const info = document.createElement("span");
    info.className = "muted";
    const heard = s.last_seen == null || now == null ? "not heard yet" : `heard ${duration(now - s.last_seen)} ago`;
    info.textContent = `${s.type} · ${s.owner} · ${heard}`;
    what.append(name, info);
    const feed = s.feed && this.feeds.get(s.feed);
    if (feed) {
      const link = document.createElement("span");
      link.className = `muted feed ${feed.connected ? "up" : "down"}`;
      const state = feed.connected ? "connected" : `not connected${feed.last_error ? `: ${feed.last_error}` : ""}`;
      link.textContent = `feed ${feed.name} (${feed.type}) ${state}; ${feed.detections} detections, ${feed.rejected} rejected`;
      what.append(link);
    }
    li.append(dot, what);
    return li;
  }
}
