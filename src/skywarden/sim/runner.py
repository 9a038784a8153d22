"""Run a scenario: motion and sensors chunk by chunk, straight into the output files.

Output, in ``out_dir``:

- ``truth.jsonl``: one line per live target per truth step, time-ordered, targets in
  scenario order within a step (formats.md "Truth");
- ``detections.jsonl``: every sensor's reports, globally ordered by ``time`` (ties keep a
  fixed order: sensor type, registry order, generation order);
- ``sensors.toml``: the registry, with the simulator's defaults filled in where the
  scenario left a key out (so a tracker knows the sigmas the noise was drawn with).

The run is split into chunks of about 30 s of simulated time: motion for all targets, then
each sensor model over the chunk, then the lines of the chunk are encoded and appended.
Memory stays bounded by the chunk size whatever the duration; every detection of a chunk
has its time inside the chunk's window, so sorting chunk by chunk sorts the whole file.

Determinism: one ``numpy.random.SeedSequence(seed)`` spawns the streams for target
expansion, cooperative broadcast schedules and each sensor (registry order); nothing
depends on wall time, dict order of inputs, or hash seeds. Same seed, same bytes.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..ingest.jsonl import JsonlWriter
from ..records import TARGET_CLASSES
from ..sensors import SensorRegistry
from .acoustic import AcousticModel
from .citizen import CitizenModel
from .cooperative import CooperativeModel
from .expand import expand_targets
from .lines import BLOCK_ROWS, LineFormat, Num, Text, compact, merge_sorted, quote, text_table
from .model import Scenario
from .motion import Chunk, Fleet, run_motion
from .radar import RadarModel
from .sensing import BOOL_TABLE, Context, time_field, with_defaults

# Chunks span 30 s to 10 min of simulated time: long enough that per-chunk costs (one
# pass per sensor) vanish for small fleets, short enough that a chunk holds at most
# CHUNK_TARGET_STEPS target-steps (~100 bytes each in the chunk's arrays).
CHUNK_SECONDS = (30.0, 600.0)
CHUNK_TARGET_STEPS = 300_000

Progress = Callable[[float, float], None]


@dataclass(frozen=True)
class SimSummary:
    """What a run wrote. ``wall_seconds`` is the only field that varies between runs."""

    scenario: str
    seed: int
    out_dir: Path
    targets: int
    duration: float  # simulated seconds
    truth_lines: int
    detections: int
    detections_by_type: dict[str, int] = field(default_factory=dict)
    wall_seconds: float = 0.0

    def __str__(self) -> str:
        hours = self.duration / 3600.0
        lines = [
            f"scenario {self.scenario} (seed {self.seed}): {self.targets:,} targets over "
            f"{hours:.2f} h of simulated time",
            f"  truth lines        {self.truth_lines:>12,}",
            f"  detections         {self.detections:>12,}",
        ]
        for kind, n in sorted(self.detections_by_type.items(), key=lambda kv: -kv[1]):
            lines.append(f"    {kind:<16s} {n:>12,}")
        return "\n".join(lines)


class TruthWriter:
    """Encodes truth lines for a chunk (formats.md "Truth", fields in its order)."""

    def __init__(self, fleet: Fleet, ctx: Context) -> None:
        self.fleet, self.ctx = fleet, ctx
        self.targets = text_table(fleet.ids, ',"target":{}')
        self.classes = text_table(
            [f',"class":"{c}","observable":' for c in TARGET_CLASSES], template=""
        )
        tails = []
        for coop, hostile in zip(fleet.coop_ids, fleet.hostile.tolist(), strict=True):
            tail = f',"id":{quote(coop)}' if coop else ""
            tails.append(tail + (',"hostile":true' if hostile else "") + "}\n")
        self.tails = text_table(tails, template="")
        self.format = LineFormat(
            time_field(),
            Text(self.targets.shape[1]),
            Num(',"lat":', 7, 2),
            Num(',"lon":', 7, 3),
            Num(',"alt":', 1, 6),
            Num(',"vel_e":', 2, 5),
            Num(',"vel_n":', 2, 5),
            Num(',"vel_u":', 2, 5),
            Text(self.classes.shape[1]),
            Text(BOOL_TABLE.shape[1]),
            Text(self.tails.shape[1]),
        )

    def lines(self, chunk: Chunk, covered: np.ndarray) -> Iterator[tuple[bytes, int]]:
        """The chunk's truth lines, in blocks of at most BLOCK_ROWS: (bytes, line count)."""
        live = np.flatnonzero(chunk.live[: chunk.steps].reshape(-1))
        n_targets = self.fleet.n
        for a in range(0, live.size, BLOCK_ROWS):
            flat = live[a : a + BLOCK_ROWS]
            k, i = np.divmod(flat, n_targets)
            rows = self.format.rows(
                flat.size,
                [
                    self.ctx.keys(chunk.t0 + k * chunk.dt),
                    (self.targets, i),
                    chunk.lat[k, i],
                    chunk.lon[k, i],
                    chunk.alt[k, i],
                    chunk.ve[k, i],
                    chunk.vn[k, i],
                    chunk.vu[k, i],
                    (self.classes, self.fleet.cls[i]),
                    (BOOL_TABLE, covered[k, i].astype(np.intp)),
                    (self.tails, i),
                ],
            )
            yield compact(rows), int(flat.size)


def _models(
    registry: SensorRegistry,
    streams: list[np.random.SeedSequence],
    scenario: Scenario,
    ctx: Context,
    schedule: np.random.Generator,
):
    """One model per sensor type, in a fixed order; each sensor keeps its registry stream."""
    by_type: dict[str, tuple[list, list]] = {}
    for sensor, stream in zip(registry, streams, strict=True):
        sensors, rngs = by_type.setdefault(sensor.type, ([], []))
        sensors.append(sensor)
        rngs.append(np.random.default_rng(stream))
    m = scenario.models
    models: list[tuple[str, object]] = []
    if "radar" in by_type:
        models.append(("radar", RadarModel(*by_type["radar"], ctx)))
    if "adsb" in by_type:
        models.append(
            ("adsb", CooperativeModel("adsb", *by_type["adsb"], ctx, m.adsb_period, schedule))
        )
    if "remote_id" in by_type:
        models.append(
            (
                "remote_id",
                CooperativeModel(
                    "remote_id", *by_type["remote_id"], ctx, m.remote_id_period, schedule
                ),
            )
        )
    if "acoustic" in by_type:
        models.append(("acoustic", AcousticModel(*by_type["acoustic"], ctx, m.acoustic)))
    if "visual_report" in by_type:
        models.append(
            ("visual_report", CitizenModel(*by_type["visual_report"], ctx, m.visual_report))
        )
    return models


def run_scenario(
    scenario: Scenario,
    out_dir: str | Path,
    *,
    seed: int | None = None,
    labels: bool = False,
    progress: Progress | None = None,
) -> SimSummary:
    """Simulate ``scenario`` and write truth.jsonl, detections.jsonl and sensors.toml.

    ``seed`` defaults to the scenario's; ``labels`` adds the truth ``target`` id to each
    detection (absent for clutter); ``progress(simulated_s, duration_s)`` is called after
    each chunk. Files appear atomically (written beside, renamed when complete).
    """
    began = time.perf_counter()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    seed = scenario.seed if seed is None else int(seed)
    expand_ss, schedule_ss, sensors_ss = np.random.SeedSequence(seed).spawn(3)
    specs = expand_targets(scenario, np.random.default_rng(expand_ss))
    fleet = Fleet.from_specs(specs, scenario.classes)
    registry = SensorRegistry([with_defaults(s) for s in scenario.sensors], scenario.source)
    ctx = Context(scenario.start, fleet, labels)
    models = _models(
        registry, sensors_ss.spawn(len(registry)), scenario, ctx, np.random.default_rng(schedule_ss)
    )
    truth = TruthWriter(fleet, ctx)
    dt = scenario.truth_step
    shortest, longest = (max(1, round(s / dt)) for s in CHUNK_SECONDS)
    chunk_steps = int(np.clip(CHUNK_TARGET_STEPS // max(fleet.n, 1), shortest, longest))
    counts = {kind: 0 for kind, _ in models}
    truth_lines = detections = 0
    # The registry goes through an atomic writer too, opened first and put in place with
    # the other two: a run stopped anywhere leaves the earlier set whole, never new
    # detections beside an old registry or none.
    with (
        JsonlWriter(out / "truth.jsonl") as tw,
        JsonlWriter(out / "detections.jsonl") as dw,
        JsonlWriter(out / "sensors.toml") as sw,
    ):
        sw.write_raw(registry.to_toml().encode("utf-8"), 0)
        for chunk in run_motion(fleet, scenario.duration, dt, chunk_steps):
            bounds = chunk.bounds()
            covered = np.zeros((chunk.steps, fleet.n), dtype=bool)
            blocks = []
            for kind, model in models:
                model.cover(chunk, covered, bounds)  # type: ignore[attr-defined]
                got = model.detect(chunk, bounds)  # type: ignore[attr-defined]
                counts[kind] += sum(b.keys.size for b in got)
                blocks += [(b.keys, b.rows) for b in got]
            for data, n in truth.lines(chunk, covered):
                tw.write_raw(data, n)
                truth_lines += n
            data, n = merge_sorted(blocks)
            dw.write_raw(data, n)
            detections += n
            if progress is not None:
                progress(min(chunk.t1, scenario.duration), scenario.duration)
    return SimSummary(
        scenario=scenario.name,
        seed=seed,
        out_dir=out,
        targets=fleet.n,
        duration=scenario.duration,
        truth_lines=truth_lines,
        detections=detections,
        detections_by_type=counts,
        wall_seconds=time.perf_counter() - began,
    )
