// The selected track's card in the side panel.

import { altitude, distance, duration, escapeHtml, headingDeg, speedKmh, utcClock } from "./format.js";

export function showTrack(row, now) {
  const section = document.getElementById("track-section");
  if (!row) { section.hidden = true; return; }
  section.hidden = false;
  document.getElementById("track-id").textContent = row.track;
  const rows = [
    ["Identity", (row.identity || "unknown").replace("_", " ")],
    ["Class", `${row.class || "unknown"}${row.class_confidence != null ? ` (${Math.round(row.class_confidence * 100)}%)` : ""}`],
    ["Status", row.status],
    ["Position", `${row.lat.toFixed(4)}, ${row.lon.toFixed(4)}`],
    ["Altitude", altitude(row)],
    ["Speed / heading", `${speedKmh(row)} · ${headingDeg(row)}`],
    ["Uncertainty", row.sigma_h != null ? `±${Math.round(row.sigma_h)} m` : "—"],
    ["Updated", utcClock(row.time)],
  ];
  if (row.next_entry) {
    const ne = row.next_entry;
    rows.push(["Next border", `${ne.nation} in ${duration(ne.eta - (now ?? row.time))}`]);
    rows.push(["Entry", `${distance(ne.distance_m)} · p ${Math.round((ne.probability ?? 1) * 100)}%`]);
  }
  if (row.ids && row.ids.length) rows.push(["Identities", row.ids.join(", ")]);
  if (row.callsign) rows.push(["Callsign", row.callsign]);
  if (row.sensors && row.sensors.length) rows.push(["Sensors", row.sensors.join(", ")]);
  if (row.flags && row.flags.length) rows.push(["Flags", row.flags.join(", ")]);
  if (row.releasability) rows.push(["Releasable to", row.releasability]);
  document.getElementById("track-card").innerHTML = rows
    .map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${escapeHtml(v)}</dd>`).join("");
}
