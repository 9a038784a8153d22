"""Run the benchmarks and write docs/PERFORMANCE.md.

Each benchmark is a script in bench/ with a ``run(quick: bool) -> str`` function that
measures, then returns a Markdown section that names the command it ran. Figures in
docs/PERFORMANCE.md come only from here: rerun `./run bench` to refresh them.

    python bench/run_all.py [--quick] [--only NAME ...] [--no-write]

With ``--only``, the sections of the other benchmarks already in the page are kept as
they are (each section is delimited by a ``<!-- bench: NAME ... -->`` marker that says
when and on what it was measured), so one benchmark can be refreshed alone.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import os
import platform
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCHMARKS = [
    "bench_sim", "bench_track", "bench_peer", "bench_assess", "bench_warn", "bench_live",
    "bench_service", "bench_map", "bench_adsb", "bench_asterix", "bench_feed",
]


def machine() -> str:
    """The marker's machine: cores, CPU model and its widest vector unit (machines shown
    under one model name differ: the assessment benchmark took 72 ms a cycle on one with
    AVX-512 and 106 ms on one with AVX2 only), Python, kernel."""
    cpu = "unknown CPU"
    try:
        info = Path("/proc/cpuinfo").read_text()
        for line in info.splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        flags = next((ln.split(":", 1)[1].split() for ln in info.splitlines()
                      if ln.startswith("flags")), [])
        simd = "AVX-512" if "avx512f" in flags else "AVX2" if "avx2" in flags else "no AVX2"
        cpu = f"{cpu}, {simd}"
    except OSError:
        pass
    return (
        f"{os.cpu_count()} cores ({cpu}), Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}"
    )


def load(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "bench" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    sys.modules[name] = module  # dataclasses look their module up while it loads
    spec.loader.exec_module(module)
    return module


_MARK = re.compile(r"^<!-- bench: (\w+),.*-->$", re.M)


def read_sections(text: str) -> dict[str, str]:
    """The marked sections of an existing page, by benchmark name (unmarked text, as in
    a page written before markers, is dropped)."""
    marks = list(_MARK.finditer(text))
    out = {}
    if not marks:
        return {}
    ends = [m.start() for m in marks[1:]] + [len(text)]
    for m, end in zip(marks, ends, strict=True):
        out[m.group(1)] = text[m.start():end].strip()
    return out


_STAMP = re.compile(r"^<!-- bench: \w+, (measured .*) -->$")


def stamped(section: str) -> str:
    """The section with its marker's date and machine also shown under its heading (the
    marker is invisible once rendered; sections of one page may come from different
    machines). Idempotent: a section that shows it already is returned as it is."""
    lines = section.split("\n")
    mark = _STAMP.match(lines[0])
    if mark is None or len(lines) < 2 or not lines[1].startswith("## "):
        return section
    shown = f"*{mark.group(1)[0].upper()}{mark.group(1)[1:]}.*"
    if len(lines) > 3 and lines[3].startswith("*Measured "):
        lines[3] = shown
        return "\n".join(lines)
    return "\n".join([lines[0], lines[1], "", shown] + lines[2:])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    ap.add_argument("--only", nargs="*", default=None, help="run only these benchmarks")
    ap.add_argument("--no-write", action="store_true", help="print, do not write the doc")
    args = ap.parse_args()
    page = ROOT / "docs" / "PERFORMANCE.md"
    kept = read_sections(page.read_text()) if page.exists() else {}
    today = dt.date.today().isoformat()
    for name in args.only or BENCHMARKS:
        print(f"== {name}", file=sys.stderr, flush=True)
        body = load(name).run(quick=args.quick).strip()
        kept[name] = f"<!-- bench: {name}, measured {today} on {machine()} -->\n{body}"
    sections = [stamped(kept[n]) for n in BENCHMARKS if n in kept]
    doc = (
        "# Performance\n\n"
        "Every figure here was measured by `./run bench` (bench/run_all.py), never "
        "estimated. Rerun it to refresh this page; `--only NAME` refreshes one section and "
        "keeps the others. Each section says under its heading when and on what machine it "
        "was measured: sections measured on different machines do not compare (two machines "
        "both shown as AMD EPYC took 72 and 106 ms for the same assessment cycle).\n\n" + "\n\n".join(sections) + "\n"
    )
    if args.no_write:
        print(doc)
    else:
        page.write_text(doc)
        print(f"wrote {page}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
