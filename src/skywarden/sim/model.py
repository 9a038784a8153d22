"""The typed form of a scenario (docs/SCENARIO-FORMAT.md), as the loader returns it.

Plain frozen dataclasses: :mod:`.scenario` builds them from TOML and checks every value,
:mod:`.expand` turns groups and traffic into targets, :mod:`.motion` and the sensor models
read them. Units: seconds (times relative to ``Scenario.start`` unless named ``*_epoch``),
metres, metres per second, degrees, square metres for radar cross-sections.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..sensors import SensorRegistry

# (lat, lon, alt or None): a waypoint, degrees and metres MSL.
Point = tuple[float, float, float | None]


@dataclass(frozen=True, slots=True)
class ClassParams:
    """Kinematic and radar defaults of one target class."""

    rcs: float  # m^2
    turn_rate: float  # deg/s
    climb_rate: float  # m/s
    speed: float  # m/s


# Built-in defaults, overridable per scenario with [class.NAME]. RCS values are typical
# X/S-band figures (a Shahed-type drone about 0.1 m^2, a cruise missile 0.5, an airliner
# 10 or more); turn rates: 3 deg/s is the standard-rate turn of aircraft.
DEFAULT_CLASSES: dict[str, ClassParams] = {
    "aircraft": ClassParams(rcs=10.0, turn_rate=3.0, climb_rate=15.0, speed=230.0),
    "helicopter": ClassParams(rcs=3.0, turn_rate=10.0, climb_rate=8.0, speed=60.0),
    "drone": ClassParams(rcs=0.1, turn_rate=5.0, climb_rate=5.0, speed=45.0),
    "missile": ClassParams(rcs=0.5, turn_rate=10.0, climb_rate=50.0, speed=250.0),
    "balloon": ClassParams(rcs=1.0, turn_rate=1.0, climb_rate=3.0, speed=10.0),
    "bird": ClassParams(rcs=0.01, turn_rate=20.0, climb_rate=2.0, speed=12.0),
    "unknown": ClassParams(rcs=1.0, turn_rate=3.0, climb_rate=10.0, speed=100.0),
}


@dataclass(frozen=True, slots=True)
class Loiter:
    """Orbit waypoint ``at`` (route index) for ``duration`` s at ``radius`` m."""

    at: int
    duration: float
    radius: float


@dataclass(frozen=True, slots=True)
class TargetSpec:
    """One target. ``None`` numbers take the class default (``alt``: the first waypoint's)."""

    id: str
    cls: str
    route: tuple[Point, ...]
    start: float = 0.0
    speed: float | None = None
    alt: float | None = None
    turn_rate: float | None = None
    climb_rate: float | None = None
    rcs: float | None = None
    hostile: bool = False
    coop_id: str | None = None  # "icao:..", "rid:..", or "auto-icao"/"auto-rid" before expansion
    callsign: str | None = None
    loiter: tuple[Loiter, ...] = ()
    end: str = "vanish"


@dataclass(frozen=True, slots=True)
class TargetGroup:
    """Many similar targets ``PREFIX-001..``: ``template`` is the shared target."""

    prefix: str
    count: int
    interval: float
    jitter_m: float
    jitter_last: bool
    speed_jitter: float
    template: TargetSpec


@dataclass(frozen=True, slots=True)
class Traffic:
    """Background flights between ``endpoints`` (``PREFIX-001..``)."""

    prefix: str
    count: int
    endpoints: tuple[Point, ...]
    cruise_alt: tuple[float, float]
    speed: tuple[float, float]
    cls: str
    coop_id: str | None  # "auto-icao", "auto-rid" or None
    start: tuple[float, float]


@dataclass(frozen=True, slots=True)
class VisualModel:
    """Citizen reports ([sensor_model.visual_report])."""

    reports_per_target_hour: float = 2.0
    max_alt: float = 2000.0  # m MSL
    delay: tuple[float, float] = (30.0, 300.0)  # s
    sigma_h: tuple[float, float] = (1000.0, 3000.0)  # m
    area: tuple[tuple[float, float], ...] | None = None  # (lat, lon) polygon
    class_correct: float = 0.8  # probability the reported class is the true one


@dataclass(frozen=True, slots=True)
class AcousticModel:
    """Acoustic sensors ([sensor_model.acoustic])."""

    max_alt: float = 1500.0  # m above the sensor
    classes: tuple[str, ...] = ("drone", "missile", "helicopter")


@dataclass(frozen=True, slots=True)
class SensorModels:
    visual_report: VisualModel = field(default_factory=VisualModel)
    acoustic: AcousticModel = field(default_factory=AcousticModel)
    adsb_period: float = 1.0  # s between reports per aircraft per receiver
    remote_id_period: float = 1.0


@dataclass(frozen=True)
class Scenario:
    """A loaded, validated scenario. ``targets`` are the explicit ``[[target]]`` tables;
    groups, traffic and the ``[scale]`` generator are expanded per run, from its seed."""

    name: str
    title: str
    description: str
    start: float  # epoch seconds, UTC
    duration: float  # s
    truth_step: float  # s
    seed: int
    sources: tuple[str, ...]
    classes: dict[str, ClassParams]
    models: SensorModels
    sensors: SensorRegistry
    targets: tuple[TargetSpec, ...] = ()
    groups: tuple[TargetGroup, ...] = ()
    traffic: tuple[Traffic, ...] = ()
    scale: ScaleParams | None = None
    source: str = "<scenario>"


@dataclass(frozen=True, slots=True)
class ScaleParams:
    """Parameters of the generated `scale` scenario ([scale] in scale.toml)."""
    targets: int
    sensors: int
    adsb_receivers: int
    area: tuple[float, float, float, float]  # south, west, north, east (deg)
    owner: str
    class_mix: dict[str, float]
    coop_fraction: dict[str, float]
    hostile_fraction: float
    loiter_fraction: float
    legs: tuple[int, int]
    leg_length: tuple[float, float]  # m
    speed: dict[str, tuple[float, float]]  # m/s per class
    alt: dict[str, tuple[float, float]]  # m MSL per class
    start: tuple[float, float]
    radar: dict[str, float]
    radar_coverage: float
    adsb: dict[str, float]
