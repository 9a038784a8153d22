// The time slider: drag back into the stored history (GET /api/v1/history) to see the
// picture as it was; play steps forward; "Back to live" returns to the stream.

import { utcDateTime } from "./format.js";

const WINDOW_S = 120;   // history fetched behind the chosen instant (trails and positions)

export class TimeSlider {
  constructor(api, store, { now, onReplay, onLive }) {
    this.api = api;
    this.store = store;
    this.now = now;
    this.onReplay = onReplay;
    this.onLive = onLive;
    this.slider = document.getElementById("replay-slider");
    this.span = document.getElementById("replay-span");
    this.label = document.getElementById("replay-time");
    this.liveButton = document.getElementById("replay-live");
    this.playButton = document.getElementById("replay-play");
    this.time = null;          // null: live
    this.playing = null;
    this.request = 0;
    this.slider.oninput = () => this.label.textContent = utcDateTime(this.sliderTime());
    this.slider.onchange = () => this.seek(this.sliderTime());
    this.liveButton.onclick = () => this.live();
    this.playButton.onclick = () => this.togglePlay();
    this.span.onchange = () => this.refresh();
  }

  sliderTime() {
    const now = this.now();
    const span = Number(this.span.value);
    return now - span + (span * Number(this.slider.value)) / 1000;
  }

  // Keep the slider's knob where its time is as "now" moves on.
  refresh() {
    const now = this.now();
    if (now == null) return;
    if (this.time == null) {
      this.slider.value = 1000;
      this.label.textContent = "live";
    } else {
      const span = Number(this.span.value);
      this.slider.value = Math.max(0, Math.min(1000, Math.round(((this.time - (now - span)) / span) * 1000)));
    }
  }

  async seek(t) {
    const now = this.now();
    if (t >= now - 1) { this.live(); return; }
    this.time = t;
    this.liveButton.disabled = false;
    this.label.textContent = `${utcDateTime(t)} (loading)`;
    this.onReplay(this.store);
    const request = ++this.request;
    try {
      const since = (t - WINDOW_S).toFixed(3);
      const rows = await this.api.get(`/api/v1/history?since=${since}&until=${t.toFixed(3)}`);
      if (request !== this.request || this.time == null) return;
      this.store.load(Array.isArray(rows) ? rows : rows.tracks || [], t);
      this.label.textContent = `${utcDateTime(t)} · ${this.store.rows.size} tracks`;
      this.onReplay(this.store);
    } catch (err) {
      if (request === this.request) this.label.textContent = `${utcDateTime(t)} · ${err.message}`;
    }
    this.refresh();
  }

  togglePlay() {
    if (this.playing) {
      clearInterval(this.playing);
      this.playing = null;
      this.playButton.innerHTML = "&#9654;";
      return;
    }
    if (this.time == null) this.time = this.now() - Number(this.span.value);
    this.playButton.innerHTML = "&#10074;&#10074;";
    const step = () => {
      const next = this.time + Math.max(5, Number(this.span.value) / 120);
      if (next >= this.now() - 1) { this.togglePlay(); this.live(); return; }
      this.seek(next);
    };
    step();
    this.playing = setInterval(step, 1000);
  }

  live() {
    if (this.playing) this.togglePlay();
    this.time = null;
    this.request++;
    this.liveButton.disabled = true;
    this.refresh();
    this.onLive();
  }
}
