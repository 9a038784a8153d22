// The alert panel: open alerts, highest level first, each with an acknowledge button for
// operators. Loaded from REST, then kept current by the stream's alert events.

import { alertKind, duration, escapeHtml, utcClock } from "./format.js";

const MAX_SHOWN = 200;

export class AlertPanel {
  constructor(api, { canAcknowledge, onLocate, onChange }) {
    this.api = api;
    this.canAcknowledge = canAcknowledge;
    this.onLocate = onLocate || (() => {});
    this.onChange = onChange || (() => {});
    this.alerts = new Map();
    this.now = null;
    this.list = document.getElementById("alerts");
    this.empty = document.getElementById("alerts-empty");
    this.count = document.getElementById("alert-count");
    this.pending = false;
    this.list.addEventListener("click", (e) => this.click(e));
  }

  async load() {
    const stored = await this.api.get("/api/v1/alerts?open=true");
    this.alerts.clear();
    for (const alert of Array.isArray(stored) ? stored : stored.alerts || []) {
      this.alerts.set(alert.alert, alert);
    }
    this.render();
  }

  // An alert no longer releasable to this nation (the stream's alert_withdrawn).
  withdraw(id) {
    if (this.alerts.delete(id)) this.render();
  }

  // One AlertEvent from the stream.
  onEvent(event) {
    if (!event || !event.alert) return;
    if (event.event === "ended") {
      this.alerts.delete(event.alert);
    } else {
      const old = this.alerts.get(event.alert);
      const alert = old ? { ...old } : {
        alert: event.alert, kind: event.kind, nation: event.nation, raised: event.time,
        track: event.track, zone: event.zone, acks: [],
      };
      alert.level = event.level;
      alert.changed = event.time;
      alert.last = event;
      if (event.event === "acknowledged") {
        alert.acks = [...(alert.acks || []), { by: event.by || "", time: event.time, level: event.level }];
      }
      this.alerts.set(event.alert, alert);
    }
    this.schedule();
  }

  schedule() {
    if (this.pending) return;
    this.pending = true;
    setTimeout(() => { this.pending = false; this.render(); }, 250);
  }

  sorted() {
    return [...this.alerts.values()].sort((a, b) =>
      (b.level - a.level) || ((b.changed || 0) - (a.changed || 0)));
  }

  // Highest open level per track, for the rings drawn round tracks on the map.
  levelsByTrack() {
    const levels = new Map();
    for (const a of this.alerts.values()) {
      if (a.track && a.level > (levels.get(a.track) || 0)) levels.set(a.track, a.level);
    }
    return levels;
  }

  // Keyed rendering: each alert keeps its <li>, and each part is rewritten only when its
  // text changes, so a button under the operator's pointer is never swapped mid-click.
  render() {
    const alerts = this.sorted();
    this.count.textContent = String(alerts.length);
    this.count.classList.toggle("hot", alerts.some((a) => a.level >= 3 && !acknowledged(a)));
    this.empty.hidden = alerts.length > 0;
    const shown = alerts.slice(0, MAX_SHOWN);
    // While the pointer is on the list its rows keep their places: re-sorting moved the
    // row under the pointer (ETAs change every tick) and its button with it.
    const hold = this.list.matches(":hover");
    const keep = new Set((hold ? alerts : shown).map((a) => a.alert));
    for (const li of [...this.list.children]) {
      if (!keep.has(li.dataset.alert)) li.remove();
    }
    const existing = new Map([...this.list.children].map((li) => [li.dataset.alert, li]));
    shown.forEach((a, i) => {
      let li = existing.get(a.alert);
      if (!li) {
        li = document.createElement("li");
        li.dataset.alert = a.alert;
        li.innerHTML = '<div class="alert-head"><span class="level"></span><span class="alert-title"></span></div>'
          + '<div class="alert-meta"></div><ul class="alert-actions"></ul><div class="alert-foot"></div>';
      }
      this.fill(li, a);
      if (hold) {
        if (!li.parentNode) this.list.appendChild(li);
      } else if (this.list.children[i] !== li) {
        this.list.insertBefore(li, this.list.children[i] || null);
      }
    });
    this.more = alerts.length - shown.length;
    this.onChange(this);
  }

  fill(li, a) {
    const last = a.last || {};
    const acked = acknowledged(a);
    const set = (el, html) => {
      if (el.dataset.html !== html) { el.innerHTML = html; el.dataset.html = html; }
    };
    const cls = `alert level-${a.level}${acked ? " acked" : ""}`;
    if (li.className !== cls) li.className = cls;
    const [head, meta, actions, foot] = li.children;
    set(head.children[0], `L${a.level}`);
    set(head.children[1], `${escapeHtml(alertKind(a.kind))} · ${escapeHtml(a.zone ? `zone ${a.zone}` : a.nation || "")}`);
    const parts = [];
    if (a.track) parts.push(`track ${escapeHtml(a.track)}`);
    if (last.eta != null && this.now != null) parts.push(`ETA ${duration(last.eta - this.now)}`);
    if (last.probability != null) parts.push(`p ${Math.round(last.probability * 100)}%`);
    parts.push(`since ${utcClock(a.raised)}`);
    set(meta, parts.join(" · "));
    set(actions, (last.actions || []).slice(0, 3).map((x) => `<li>${escapeHtml(actionText(x))}</li>`).join(""));
    actions.hidden = !(last.actions && last.actions.length);
    const ack = a.acks && a.acks.length ? a.acks[a.acks.length - 1] : null;
    const button = this.canAcknowledge(a) && !acked
      ? `<button type="button" class="small ack" data-ack="${escapeHtml(a.alert)}">Acknowledge</button>`
      : "";
    const note = acked
      ? `<span class="acked-by">✓ acknowledged${ack.by ? ` by ${escapeHtml(ack.by)}` : ""} ${utcClock(ack.time)}</span>`
      : "";
    // A failed or pending button keeps its own text until the alert changes.
    if (!foot.querySelector("button[data-busy]")) set(foot, note + button);
  }

  async click(event) {
    const button = event.target.closest("button[data-ack]");
    if (button) {
      event.stopPropagation();
      button.disabled = true;
      button.dataset.busy = "1";
      button.textContent = "Acknowledging…";
      try {
        await this.acknowledge(button.dataset.ack);
      } catch (err) {
        // 404: unknown to the service, or no longer releasable to this nation (a later
        // event of the alert is not: the stream does not send it); 409: it ended. Either
        // way it is not ours to act on any more.
        if (err.status === 404 || err.status === 409) {
          this.alerts.delete(button.dataset.ack);
          this.render();
          return;
        }
        button.disabled = false;
        button.textContent = `Failed: ${err.message}`;
        setTimeout(() => { delete button.dataset.busy; this.schedule(); }, 4000);
        return;
      }
      delete button.dataset.busy;
      this.render();
      return;
    }
    const item = event.target.closest("li[data-alert]");
    const alert = item && this.alerts.get(item.dataset.alert);
    if (alert) this.onLocate(alert);
  }

  async acknowledge(id) {
    const result = await this.api.post(`/api/v1/alerts/${encodeURIComponent(id)}/ack`, { note: "" });
    const alert = this.alerts.get(id);
    if (alert) {
      if (result && result.alert === id && Array.isArray(result.acks)) {
        this.alerts.set(id, { ...alert, ...result });
      } else {
        alert.acks = [...(alert.acks || []), { by: "", time: this.now, level: alert.level }];
      }
    }
    this.render();
  }
}

// A playbook action code in words: "notify_atc" -> "Notify ATC".
const ACRONYMS = new Set(["atc", "qra", "aoc", "notam", "cap", "nato", "crc", "sar"]);
export function actionText(code) {
  const words = String(code).split("_").map((w) => (ACRONYMS.has(w) ? w.toUpperCase() : w));
  const text = words.join(" ");
  return text.charAt(0).toUpperCase() + text.slice(1);
}

// Acknowledged at (or above) its current level: an escalation asks for a new acknowledgement.
export function acknowledged(alert) {
  const acks = alert.acks || [];
  return acks.some((k) => (k.level ?? alert.level) >= alert.level);
}
