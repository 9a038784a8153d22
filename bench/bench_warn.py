"""Benchmark: warnings on the incursion scenarios, against the warning issue's floors.

    python bench/bench_warn.py [--quick]

For each scenario: `skywarden sim NAME --labels` (not timed), then `skywarden replay`
(track, assess, warn) timed as a whole command, then the warning scores
(skywarden.score.warnings): every actual entry of a threat into a nation, the lead time
of the first warning to that nation, misses, and false alerts per nation-hour.
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

CODE = (
    "import resource, sys; from skywarden.cli import main; rc = main(sys.argv[1:]); "
    "print('PEAK', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr); "
    "sys.exit(rc)"
)


def _cli(*args: str) -> tuple[float, str, float]:
    began = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", CODE, *args], capture_output=True, text=True,
                          check=True)
    wall = time.perf_counter() - began
    peak = int(done.stderr.rsplit("PEAK", 1)[1].split()[0]) / 1024.0
    return wall, done.stdout, peak


def _stage_times(text: str) -> str:
    for line in text.splitlines():
        if line.strip().startswith("track / assess / warn"):
            return line.split("warn", 1)[1].strip()
    return "-"


def _cap_summary(folder: Path) -> str:
    """CAP messages written by the replay, by type, and the warnings (threads) they form."""
    import xml.etree.ElementTree as ET
    from collections import Counter

    from skywarden.warn.cap import CAP_NS

    q = f"{{{CAP_NS}}}"
    types: Counter[str] = Counter()
    regions = 0  # warnings (threads, each opened by one Alert) of a region
    threads: dict[str, list[tuple[float, str]]] = {}  # identifier stem -> (sent, type)
    for path in folder.rglob("*.xml"):  # replay writes them flat; the service per nation
        root = ET.parse(path).getroot()
        kind = root.findtext(f"{q}msgType") or "?"
        types[kind] += 1
        names = {p.findtext(f"{q}valueName") for p in root.iter(f"{q}parameter")}
        regions += kind == "Alert" and "skywarden:region" in names
        sent = (root.findtext(f"{q}sent") or "").replace("-00:00", "+00:00")
        stem = (root.findtext(f"{q}identifier") or "").rsplit(".", 2)[0]
        threads.setdefault(stem, []).append((datetime.fromisoformat(sent).timestamp(), kind))
    spans = []  # how long each warning stood, Alert to Cancel
    for messages in threads.values():
        opened = None
        for t, kind in sorted(messages):
            if kind == "Alert":
                opened = t
            elif kind == "Cancel" and opened is not None:
                spans.append(t - opened)
                opened = None
    stood = (f"; a warning stood {statistics.median(spans) / 60:.1f} min (median), "
             f"{sum(s < 120 for s in spans)} of {len(spans)} less than 2 min" if spans else "")
    return (f"{sum(types.values()):,} CAP messages ("
            + ", ".join(f"{types[t]:,} {t}" for t in ("Alert", "Update", "Cancel"))
            + f"): {types['Alert']:,} warnings, {regions:,} of them per region, "
            f"{types['Alert'] - regions:,} an alert's own{stood}")


def run(quick: bool = False) -> str:
    from skywarden.score.warnings import score_warnings

    cases = [["poland-2025-09", "--duration", "5400"]] if quick else [
        ["poland-2025-09"], ["mass-attack"], ["airport-drones"]]
    rows, details = [], []
    for case in cases:
        out = Path(tempfile.mkdtemp(prefix="bench-warn-"))
        try:
            _cli("sim", *case, "-o", str(out), "--labels")
            wall, text, peak = _cli("replay", str(out), "--alerts-out", str(out / "alerts.jsonl"),
                                    "--tracks-out", str(out / "tracks.jsonl"),
                                    "--cap-out", str(out / "cap"), "--limit", "1")
            rep = score_warnings(out / "truth.jsonl", out / "alerts.jsonl",
                                 out / "detections.jsonl", tracks_path=out / "tracks.jsonl")
            seen = rep.scored
            frac = rep.median_lead_fraction()
            fa = rep.false_alerts_per_nation_hour()
            worst = max(fa.items(), key=lambda kv: kv[1]) if fa else ("-", 0.0)
            name = " ".join(case)
            rows.append(
                f"| `{name}` | {wall:.0f} | {_stage_times(text)} | {peak:,.0f} "
                f"| {len(rep.entries)} | {len(seen)} | {len(seen) - rep.missed} | {rep.missed} "
                f"| {rep.median_lead() or 0:,.0f} | {rep.median_possible() or 0:,.0f} "
                f"| {'-' if frac is None else f'{100 * frac:.0f} %'} "
                f"| {sum(rep.false_alerts.values())} | {worst[1]:.2f} ({worst[0]}) |"
            )
            civil = sum(rep.false_civil.values())
            details.append(f"`{name}`, false alerts per nation: "
                           + (", ".join(f"{k} {v}" for k, v in sorted(rep.false_alerts.items()))
                              or "none")
                           + f" ({civil} about a target that is no threat: civil traffic, "
                           f"birds; {sum(rep.false_alerts.values()) - civil} about no target "
                           "near)")
            details.append(f"`{name}`, public warnings: {_cap_summary(out / 'cap')}")
            ev = rep.median_lead_fraction(events_only=True)
            details.append(f"`{name}`, by alert events alone (not following the alerts' "
                           f"tracks): {len(seen) - rep.missed_by_events} warned, "
                           f"{rep.missed_by_events} missed, lead / possible "
                           + ("-" if ev is None else f"{100 * ev:.0f} %")
                           + (f"; {rep.alerts_without_track_lines} of the {rep.alerts:,} "
                              "alerts had no confirmed line of their track while they stood "
                              "(a track that coasted, or was not updated again, until its "
                              "alert ended)"
                              if rep.alerts_without_track_lines else ""))
            if rep.missed:
                by = rep.missed_by_detections()
                details.append(f"`{name}`, missed entries by the threat's detections before "
                               "the entry: "
                               + ", ".join(f"{k}: {v}" for k, v in by.items() if v)
                               + f"; {rep.missed_with_alert_near()} of the {rep.missed} had "
                               "an alert to that nation within 5 km of the threat before the "
                               "entry, nearer another target (docs/SCORING.md)")
        finally:
            shutil.rmtree(out, ignore_errors=True)
    return (
        "## Warnings (replay: track, assess, warn)\n\n"
        "Each row: `skywarden sim CASE -o DIR --labels` (not timed), then `skywarden replay "
        "DIR --alerts-out DIR/alerts.jsonl --tracks-out DIR/tracks.jsonl` timed as a whole "
        "command (one run; stage seconds as the replay reports them), then the warning "
        "scores of docs/SCORING.md. An entry "
        "is a threat's true position passing into a nation's territory (land and territorial "
        "sea, docs/AIRSPACE.md); 'seen' entries "
        "are those whose threat was detected before the border (the floor applies to them; "
        "entries into Belarus and Russia, which the deployment does not warn by design, "
        "are left out); "
        "lead / possible is the median over seen entries of (entry - first warning to that "
        "nation) / (entry - first detection). A warning is an alert event about the threat "
        "(nearest it, within 5 km), or a line of a standing alert's track about it: an alert "
        "shows its track until it ends, and events are only written when its level changes "
        "(docs/SCORING.md); the figures from events alone are given below each table. "
        "False alerts: alerts whose first event is not "
        "about a threat (about civil traffic, or about no target within 5 km: a clutter "
        "track or one far from its target), per hour of scenario time, worst nation shown. "
        "Public warnings: the CAP messages the replay wrote (`--cap-out`), and the warnings "
        "(threads: Alert, Updates, Cancel) they form, per region or an alert's own "
        "(docs/WARNING.md). Rerun: "
        "`python bench/run_all.py --only bench_warn`.\n\n"
        "| scenario | wall s | track / assess / warn s | peak RSS MiB | entries | seen "
        "| warned before entry | missed | median lead s | median possible s | lead / possible "
        "| false alerts | worst false alerts per nation-hour |\n"
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|\n" + "\n".join(rows) + "\n\n"
        + "\n\n".join(details)
        + "\n\nFloors (warning issue): every seen entry warned before it happens; median lead at "
        "least 80 % of the possible; at most 1 false alert per nation-hour. They are set for "
        "`poland-2025-09` and `mass-attack`; `airport-drones` is shown for its false alerts "
        "about gulls (docs/scenarios/airport-drones.md). A threat "
        "detected once before the border counts as seen, though no track is confirmed on "
        "one plot: the missed entries are counted by how often their threat was detected "
        "before entering."
    )


if __name__ == "__main__":
    print(run(quick="--quick" in sys.argv))
