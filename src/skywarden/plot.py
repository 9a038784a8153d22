"""Draw truth and tracks over the national borders to a PNG (matplotlib, Agg canvas).

Both files are streamed and each target or track keeps at most ``max_points`` points
(every k-th, k doubling as the path grows, plus its last point), so a day of traffic draws
in bounded memory and time. Axes are longitude and latitude in degrees with the aspect
set to 1 / cos(mid latitude), so distances look the same east-west and north-south.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path

import matplotlib
import numpy as np
import shapely
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection, PolyCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from .airspace.borders import Borders, load_borders, load_land
from .ingest.jsonl import ReadStats, read_jsonl
from .records import Truth
from .score import read_tracks

THEMES = {
    "light": {"sea": "#dde8f0", "land": "#f7f5ef", "border": "#8a8a8a", "label": "#6b6b6b",
              "truth": "#222222", "text": "#111111", "cmap": "tab10"},
    "dark": {"sea": "#10161d", "land": "#1d252e", "border": "#5d6b78", "label": "#8795a3",
             "truth": "#e8e8e8", "text": "#e8e8e8", "cmap": "Set2"},
}


class _Paths:
    """Per-id decimated paths: at most ``2 * limit`` points kept, plus the last one."""

    def __init__(self, limit: int) -> None:
        self.limit = max(limit, 2)
        self.points: dict[str, list[tuple[float, float]]] = {}
        self.stride: dict[str, int] = {}
        self.count: dict[str, int] = {}
        self.last: dict[str, tuple[float, float]] = {}

    def add(self, key: str, lon: float, lat: float) -> None:
        n = self.count.get(key, 0)
        self.count[key] = n + 1
        self.last[key] = (lon, lat)
        stride = self.stride.setdefault(key, 1)
        if n % stride:
            return
        pts = self.points.setdefault(key, [])
        pts.append((lon, lat))
        if len(pts) > 2 * self.limit:  # thin out: keep every other point, double the stride
            del pts[1::2]
            self.stride[key] = stride * 2

    def lines(self) -> list[np.ndarray]:
        out = []
        for key, pts in self.points.items():
            if pts[-1] != self.last[key]:
                pts = [*pts, self.last[key]]
            out.append(np.asarray(pts, dtype=np.float64))
        return out

    def ends(self) -> np.ndarray:
        return np.asarray(list(self.last.values()), dtype=np.float64).reshape(-1, 2)


def _extent(paths: Iterable[np.ndarray], borders: Borders) -> tuple[float, float, float, float]:
    """lon_min, lon_max, lat_min, lat_max around the data with a margin; the borders' box
    when there is no data."""
    pts = [p for p in paths if len(p)]
    if not pts:
        w, s, e, n = borders.bbox
        return w, e, s, n
    xy = np.concatenate(pts)
    w, e = float(xy[:, 0].min()), float(xy[:, 0].max())
    s, n = float(xy[:, 1].min()), float(xy[:, 1].max())
    pad = max(0.1 * max(e - w, n - s), 0.3)
    return w - pad, e + pad, s - pad / 2, n + pad / 2


def _draw_borders(ax: Axes, borders: Borders, theme: dict[str, str],
                  extent: tuple[float, float, float, float]) -> None:
    w, e, s, n = extent
    view = shapely.box(w, s, e, n)
    polys: list[np.ndarray] = []
    rings: list[np.ndarray] = []
    for code in borders.codes:
        geom = borders.geometry(code)
        if not geom.intersects(view):
            continue
        for part in shapely.get_parts(geom):
            polys.append(np.asarray(part.exterior.coords))
            rings.extend(np.asarray(r.coords) for r in [part.exterior, *part.interiors])
        inside = geom.intersection(view)
        if inside.area > 0.02 * view.area or inside.area > 1.0:  # label only what shows
            at = inside.representative_point()
            ax.text(at.x, at.y, code, color=theme["label"], fontsize=9, ha="center",
                    va="center", alpha=0.8, zorder=1)
    ax.add_collection(PolyCollection(polys, facecolors=theme["land"], edgecolors="none",
                                     zorder=0))
    ax.add_collection(LineCollection(rings, colors=theme["border"], linewidths=0.6, zorder=1))


def _draw_limits(ax: Axes, airspace: Borders, theme: dict[str, str],
                 extent: tuple[float, float, float, float]) -> None:
    """The outer limits of the nations' airspace (their territorial sea), dashed. Over
    land they run along the borders already drawn."""
    w, e, s, n = extent
    view = shapely.box(w, s, e, n)
    geoms = [airspace.geometry(code) for code in airspace.codes]
    rings = [np.asarray(part.exterior.coords)
             for geom in geoms if geom.intersects(view) for part in shapely.get_parts(geom)]
    ax.add_collection(LineCollection(rings, colors=theme["border"], linewidths=0.6,
                                     linestyles=(0, (4, 3)), zorder=1))


def check_image_path(path: Path, option: str = "--plot") -> None:
    """Refuse an image path that :func:`plot` could not honour, before the work that leads
    to it: matplotlib would save into a folder as FOLDER.png, add .png to a name without a
    suffix (so the file named in the summary would not exist), and fail on an unknown
    suffix only after scoring."""
    from matplotlib.backend_bases import FigureCanvasBase

    from .errors import ConfigError

    kinds = FigureCanvasBase.get_supported_filetypes()
    if path.is_dir():
        raise ConfigError(f"{option} {path}: is a folder; give an image file, e.g. tracks.png")
    if not path.suffix:
        raise ConfigError(f"{option} {path}: no image suffix; give e.g. {path}.png")
    if path.suffix[1:].lower() not in kinds:
        raise ConfigError(f"{option} {path}: '{path.suffix}' is not an image format "
                          f"matplotlib writes ({', '.join(sorted(kinds))})")


def plot(
    truth_path: str | Path,
    tracks_path: str | Path,
    png_path: str | Path,
    *,
    max_points: int = 300,
    confirmed_only: bool = True,
    dark: bool = False,
    title: str | None = None,
    dpi: int = 130,
) -> Path:
    """Draw truth (grey lines) and tracks (coloured lines, dot at the last position).

    ``confirmed_only`` leaves out tentative tracks, as scoring does. Bad lines are skipped
    quietly (scoring reports them). Returns the PNG path.
    """
    theme = THEMES["dark" if dark else "light"]
    quiet = ReadStats(report=None)
    truth = _Paths(max_points)
    for row in read_jsonl(truth_path, Truth, stats=quiet):
        truth.add(row.target, row.lon, row.lat)
    tracks = _Paths(max_points)
    for line in read_tracks(tracks_path, stats=ReadStats(report=None)):
        if line.state == "deleted" or (confirmed_only and line.state == "tentative"):
            continue
        tracks.add(line.id, line.lon, line.lat)
    truth_lines, track_lines = truth.lines(), tracks.lines()
    borders = load_land()
    extent = _extent([*truth_lines, *track_lines], borders)

    # A bare Figure on the Agg canvas, not pyplot: no global state, no display, no
    # backend switch under a caller that uses matplotlib itself.
    fig = Figure(figsize=(11, 9), facecolor=theme["sea"])
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.set_facecolor(theme["sea"])
    _draw_borders(ax, borders, theme, extent)
    _draw_limits(ax, load_borders(), theme, extent)
    ax.add_collection(LineCollection(truth_lines, colors=theme["truth"], linewidths=4.0,
                                     alpha=0.3, zorder=2))
    cmap = matplotlib.colormaps[theme["cmap"]]
    colours = [cmap(i % cmap.N) for i in range(len(track_lines))]
    ax.add_collection(LineCollection(track_lines, colors=colours, linewidths=1.0, zorder=3))
    ends = tracks.ends()
    if len(ends):
        ax.scatter(ends[:, 0], ends[:, 1], s=9, c=colours, zorder=4)

    w, e, s, n = extent
    ax.set_xlim(w, e)
    ax.set_ylim(s, n)
    ax.set_aspect(1.0 / math.cos(math.radians((s + n) / 2)))
    ax.set_xlabel("longitude (deg E)", color=theme["text"])
    ax.set_ylabel("latitude (deg N)", color=theme["text"])
    ax.tick_params(colors=theme["text"])
    for spine in ax.spines.values():
        spine.set_color(theme["border"])
    ax.set_title(title or f"{Path(tracks_path).name} against {Path(truth_path).name}",
                 color=theme["text"])
    which = "confirmed/coasting" if confirmed_only else "all"
    handles = [
        Line2D([], [], color=theme["truth"], alpha=0.3, lw=4.0,
               label=f"truth ({len(truth_lines):,} targets)"),
        Line2D([], [], color=cmap(0), lw=1.0, marker="o", markersize=3,
               label=f"tracks, {which} ({len(track_lines):,}; dot = last position)"),
        Line2D([], [], color=theme["border"], lw=0.6, label="borders (Natural Earth 1:10m)"),
        Line2D([], [], color=theme["border"], lw=0.6, ls=(0, (4, 3)),
               label="airspace limit over the sea (12 NM)"),
    ]
    legend = ax.legend(handles=handles, loc="best", fontsize=8, framealpha=0.85,
                       facecolor=theme["land"], edgecolor=theme["border"])
    for text in legend.get_texts():
        text.set_color(theme["text"])
    out = Path(png_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=dpi, facecolor=fig.get_facecolor(), bbox_inches="tight")
    return out
