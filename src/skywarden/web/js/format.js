// Small formatting helpers: times in UTC, durations, distances, identities in words.

const pad = (n) => String(n).padStart(2, "0");

export function utcClock(t) {
  if (t == null || !isFinite(t)) return "--:--:--Z";
  const d = new Date(t * 1000);
  return `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}Z`;
}

export function utcDateTime(t) {
  if (t == null || !isFinite(t)) return "";
  const d = new Date(t * 1000);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${utcClock(t)}`;
}

// "2025-09-09T21:30" for a datetime-local input holding UTC, and back.
export function toInputValue(t) {
  const d = new Date(t * 1000);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;
}

// The same to the second ("2025-09-09T21:30:05"), for inputs with step="1".
export function toInputSeconds(t) {
  return `${toInputValue(t)}:${pad(new Date(t * 1000).getUTCSeconds())}`;
}

// Either form (minutes, or seconds as a browser may write them) back to unix seconds.
export function fromInputValue(text) {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d)(:\d\d(\.\d+)?)?$/.exec(String(text || "").trim());
  if (!m) return null;
  const t = Date.parse(`${m[1]}${m[2] || ":00"}Z`);
  return isFinite(t) ? t / 1000 : null;
}

// "4 min 10 s", "52 s", "1 h 05 min"
export function duration(seconds) {
  if (seconds == null || !isFinite(seconds)) return "";
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${pad(s % 60)} s`;
  return `${Math.floor(s / 3600)} h ${pad(Math.floor((s % 3600) / 60))} min`;
}

export function shortDuration(seconds) {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${pad(s % 60)}`;
  return `${Math.floor(s / 3600)}h${pad(Math.floor((s % 3600) / 60))}`;
}

export function distance(m) {
  if (m == null || !isFinite(m)) return "";
  return m < 10000 ? `${(m / 1000).toFixed(1)} km` : `${Math.round(m / 1000)} km`;
}

export function speedKmh(row) {
  const v = Math.hypot(row.vel_e || 0, row.vel_n || 0);
  return `${Math.round(v * 3.6)} km/h`;
}

export function headingDeg(row) {
  const deg = (Math.atan2(row.vel_e || 0, row.vel_n || 0) * 180) / Math.PI;
  return `${String(Math.round((deg + 360) % 360)).padStart(3, "0")}°`;
}

export function altitude(row) {
  return row.alt == null ? "—" : `${Math.round(row.alt)} m`;
}

export const ALERT_KINDS = {
  predicted_entry: "Predicted entry",
  incursion: "Incursion",
  restriction_violation: "Restriction violation",
  sensor_down: "Sensor down",
};

export function alertKind(kind) {
  return ALERT_KINDS[kind] || (kind || "alert").replaceAll("_", " ");
}

export function escapeHtml(text) {
  return String(text ?? "").replace(/[&<>"']/g, (c) => ({
    "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;",
  })[c]);
}
