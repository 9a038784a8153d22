"""The ``skywarden`` command: one subcommand per job, stages imported only when used.

    skywarden demo                          simulate poland-2025-09, track it, score it
    skywarden sim SCENARIO -o DIR           simulate a scenario: truth, detections, sensors
    skywarden track DETECTIONS -o TRACKS    fuse detections into tracks
    skywarden score TRUTH TRACKS            GOSPA and track metrics against truth
    skywarden check FILE                    validate a registry, scenario or JSON Lines file
    skywarden zones list|check|add|end      airspace zones and temporary restrictions
    skywarden replay DIR                    track, assess and warn; the alert timeline
    skywarden serve [--demo]                the live service: API, WebSockets, web map
    skywarden org add | token issue|revoke  organisations and API tokens of a service

Exit status: 0 success, 1 invalid input or configuration (the message says what, where
and why), 2 wrong command-line usage.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from . import __version__
from .errors import SkywardenError

EPILOG = (
    "File formats: docs/FORMATS.md (detections, tracks, truth, sensor registry). "
    "Scenarios: docs/SCENARIO-FORMAT.md."
)


def _add_strict(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--strict",
        action="store_true",
        help="stop at the first bad input line with exit status 1 "
        "(default: report it as file:line: reason, count it, skip it and go on)",
    )


def _keep_inputs(inputs: list[Path | None], outputs: dict[str, Path | None]) -> None:
    """Refuse an output that is one of the inputs: writing it would replace the data being
    read, so a slip of the keyboard would cost the recording."""
    from .errors import ConfigError

    read = {p.resolve() for p in inputs if p is not None}
    for option, out in outputs.items():
        if out is not None and out.resolve() in read:
            raise ConfigError(f"{option} {out}: is also an input of this command; it would be "
                              "overwritten (write to another file)")


def _bad_start(args: argparse.Namespace) -> bool:
    """Say so when ``--start`` is not a time a detection can carry (records.Time: epoch
    seconds, 0 to 7.3e9). nan or inf would make every frame wait for a pair that never
    comes, and a time out of range would be written for track and replay to reject."""
    if args.start is None or (math.isfinite(args.start) and 0.0 <= args.start <= 7.3e9):
        return False
    print(f"skywarden {args.command}: error: --start {args.start:g}: not epoch seconds "
          "between 0 and 7.3e9 (e.g. 1757462400 for 2025-09-10T00:00Z)", file=sys.stderr)
    return True


def _no_recording(command: str, path: Path) -> bool:
    """Say so when ``path`` is not a recording file: missing, or a folder."""
    if path.is_file():
        return False
    why = "a folder, not a recording file" if path.is_dir() else "no such file"
    print(f"skywarden {command}: error: {path}: {why}", file=sys.stderr)
    return True


def _nothing_usable(command: str, path: Path, good: int, reasons: Counter[str],
                    sensors: Path | None = None, what: str = "usable detection") -> bool:
    """Say so when no line of the input was ``what`` the command reads: every line was
    named as bad above, but a run that read nothing should not end as if it had worked (a
    truth or tracks file given as detections, the registry of another recording)."""
    bad = sum(reasons.values())
    if good or not bad:
        return False
    if sensors is not None and all("is not in the sensor registry" in r for r in reasons):
        hint = f"none of its sensors is in {sensors}: is that this recording's registry?"
    else:
        hint = "`skywarden check FILE` tells what a file holds"
    print(f"skywarden {command}: error: {path}: none of its {bad:,} lines is a {what} "
          f"(reasons above); {hint}", file=sys.stderr)
    return True


def _seed(text: str) -> int:
    """A simulator seed: numpy's generators take whole numbers >= 0 only."""
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r}: a whole number >= 0")
    return value


def _file_in_the_way(exc: OSError) -> Path | None:
    """The file standing where a folder was to be made or used (``-o out`` naming a file:
    mkdir's "File exists" or "Not a directory"), else None."""
    if not isinstance(exc, FileExistsError | NotADirectoryError) or exc.filename is None:
        return None
    path = Path(exc.filename)
    for p in (path, *path.parents):
        if p.exists():
            return None if p.is_dir() else p
    return None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="skywarden",
        description="Skywarden: a common air picture and early-warning system. "
        "It observes, predicts and warns; people decide.",
        epilog=EPILOG,
    )
    parser.add_argument("--version", action="version", version=f"skywarden {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser(
        "demo",
        help="simulate poland-2025-09, replay it through track, assess and warn, and score it",
        description="Simulate the night of 9-10 September 2025 over eastern Poland "
        "(drones from Belarus and Ukraine, civil traffic, Polish sensors; or --scenario), "
        "replay the simulated sensor reports through the tracker, the assessment and the "
        "warnings, print the alert timeline, and print the scores of the tracks and of the "
        "warnings against the truth. Several minutes on the default scenario.",
    )
    p.add_argument("--out", "-o", type=Path, default=Path("out/demo"),
                   help="directory for the files it writes (default: out/demo)")
    p.add_argument("--scenario", default="poland-2025-09",
                   help="scenario name or file (default: poland-2025-09)")
    p.add_argument("--seed", type=_seed, default=None,
                   help="random seed, a whole number >= 0 (default: the scenario's)")
    p.add_argument("--plot", action="store_true", help="also draw truth and tracks to tracks.png")

    p = sub.add_parser(
        "sim",
        help="simulate a scenario into truth.jsonl, detections.jsonl and sensors.toml",
        description="Run a scenario (a shipped name or a TOML file) and write ground truth, "
        "time-ordered sensor detections and the sensor registry, in the formats of "
        "docs/FORMATS.md. The same seed gives byte-identical files.",
        epilog=EPILOG,
    )
    p.add_argument("scenario", nargs="?", help="scenario name (see --list) or path to a .toml file")
    p.add_argument("-o", "--out", type=Path, help="output directory")
    p.add_argument("--seed", type=_seed, default=None,
                   help="random seed, a whole number >= 0 (default: the scenario's)")
    p.add_argument("--labels", action="store_true",
                   help="write the true target id of each detection (field 'target'), "
                   "for oracle trackers in benchmarks")
    p.add_argument("--list", action="store_true", help="list the shipped scenarios and exit")
    p.add_argument("--duration", type=float,
                   help="seconds of simulated time, from the scenario's start (default: the "
                   "scenario's; shortens any scenario, e.g. --duration 120 for a quick try)")
    g = p.add_argument_group("scale scenario parameters")
    g.add_argument("--targets", type=int, help="number of simultaneous targets")
    g.add_argument("--sensors", type=int, help="number of radars")

    p = sub.add_parser(
        "track",
        help="fuse detections into tracks",
        description="Read detections (JSON Lines, formats.md), fuse them into tracks and "
        "write one line per track per update.",
        epilog=EPILOG,
    )
    p.add_argument("detections", type=Path, help="detections.jsonl (or .jsonl.gz)")
    p.add_argument("-o", "--out", type=Path, required=True, help="tracks.jsonl to write")
    p.add_argument("--sensors", type=Path, required=True, help="sensor registry (TOML)")
    p.add_argument("--config", type=Path, metavar="TRACKER.toml",
                   help="tracker settings: a TOML file with a [tracker] table of "
                   "TrackerConfig fields (gates, process noise, M-of-N, lag...)")
    p.add_argument("--threads", type=int, metavar="N",
                   help="threads that share a large window's gate and track updates "
                   "(default: the settings' threads, 0 = one per core, at most 4; "
                   "1 = one core). The tracks do not depend on it")
    p.add_argument("--no-progress", action="store_true", help="no progress line on stderr")
    _add_strict(p)

    p = sub.add_parser(
        "score",
        help="score tracks against truth: GOSPA, errors, misses, false tracks, id switches",
        description="Compare a tracks file with simulator truth. GOSPA (generalized optimal "
        "sub-pattern assignment) with cut-off c metres, order p and alpha = 2: per time step "
        "and mean. A truth file given as TRACKS is read as perfect tracks (GOSPA 0).",
        epilog=EPILOG,
    )
    p.add_argument("truth", type=Path, help="truth.jsonl")
    p.add_argument("tracks", type=Path, help="tracks.jsonl")
    p.add_argument("--c", type=float, default=1000.0, help="GOSPA cut-off distance, m (default 1000)")
    p.add_argument("--p", type=float, default=2.0, help="GOSPA order (default 2)")
    p.add_argument("--alpha", type=float, default=2.0,
                   help="GOSPA alpha in (0, 2] (default 2: split into localisation, missed, false)")
    p.add_argument("--max-age", type=float, default=15.0,
                   help="a track update older than this (s) at a truth step is not used (default 15)")
    p.add_argument("--step", type=int, default=1,
                   help="score every k-th truth step only (default 1: every step)")
    p.add_argument("--dark", action="store_true", help="dark background for --plot")
    p.add_argument("--all-tracks", action="store_true",
                   help="score tentative tracks too (default: confirmed and coasting only)")
    p.add_argument("--json", action="store_true", help="print one JSON line instead of a table")
    p.add_argument("--plot", type=Path, metavar="FILE.png",
                   help="draw truth and tracks over the country borders")
    g = p.add_argument_group(
        "confirmation delay",
        "time from each target's first radar plot to its first confirmed track "
        "(needs detections written by 'skywarden sim --labels')")
    g.add_argument("--detections", type=Path, metavar="DETECTIONS.jsonl",
                   help="labelled detections: adds the confirmation delay block")
    g.add_argument("--sensors", type=Path, metavar="sensors.toml",
                   help="registry for the radars' scan periods "
                   "(default: sensors.toml beside the detections)")
    g.add_argument("--nation", metavar="ISO3",
                   help="only targets that entered this nation (e.g. POL)")
    g.add_argument("--class", dest="target_class", metavar="CLASS",
                   help="only targets of this truth class (e.g. drone)")
    g.add_argument("--confirm-scans", type=float, default=2.0, metavar="N",
                   help="list the targets confirmed later than N scans (default 2)")
    p.add_argument("--alerts", type=Path, metavar="ALERTS.jsonl",
                   help="alert events (skywarden replay --alerts-out): adds the warning scores, "
                   "lead time per threat entry into a nation, misses, false alerts per "
                   "nation-hour (with --detections, lead times count from the first detection). "
                   "TRACKS should be the same run's tracks (replay --tracks-out): an alert "
                   "then also warns of the threat its track follows while the alert stands; "
                   "the lead from alert events alone is shown beside")
    _add_strict(p)

    p = sub.add_parser(
        "check",
        help="validate a sensor registry, scenario or detections/tracks/truth file",
        description="Validate a file and report every problem with its place and reason: "
        "a sensor registry (.toml with [[sensor]]), a scenario (.toml with [scenario]) or a "
        "JSON Lines file of detections, tracks or truth (the kind is guessed from its first "
        "record; --as says it). In detections, time spikes are named too: a few lines "
        "stamped far ahead of those around them, which track and replay skip "
        "(docs/TRACKER.md).",
    )
    p.add_argument("file", type=Path)
    p.add_argument("--as", dest="kind", choices=["detections", "tracks", "truth"],
                   default=None, help="record type of a JSON Lines file (default: guessed from "
                   "its first good line; a pipe must say)")
    p.add_argument("--sensors", type=Path, help="registry to check detection sensor ids against")

    p = sub.add_parser(
        "replay",
        help="run a recording through track, assess and warn; print the alert timeline",
        description="Replay detections (a simulator output folder, or a recording turned "
        "into detections) through the whole pipeline: tracker, assessment against the "
        "borders and the shipped zones, graduated alerts per nation, CAP public warnings "
        "(status Exercise unless --cap-status says otherwise). Time is the data's own time, "
        "so the result does not depend on the machine's speed.",
        epilog=EPILOG,
    )
    p.add_argument("source", type=Path, metavar="DIR|FILE",
                   help="folder with detections.jsonl and sensors.toml, a detections file, "
                   "or with --format a sensor recording")
    p.add_argument("--format", default=None, choices=list(RECORDING_FORMATS),
                   help="the source is a recording in this format (as 'skywarden decode' "
                   "reads: sbs, beast, avr, asterix, pcap, remoteid), decoded on the way in; "
                   "needs --sensors, and --sensor for one-receiver formats")
    p.add_argument("--sensor", default=None, metavar="ID",
                   help="with --format sbs|beast|avr|remoteid: the receiver's sensor id")
    p.add_argument("--start", type=float, default=None, metavar="EPOCH",
                   help="with --format: as for 'skywarden decode'")
    p.add_argument("--sensors", type=Path, default=None,
                   help="sensor registry (default: sensors.toml beside the detections)")
    p.add_argument("--alerts-out", type=Path, default=None, metavar="FILE",
                   help="write every alert event as JSON Lines (formats.md 'Alert event')")
    p.add_argument("--tracks-out", type=Path, default=None, metavar="FILE",
                   help="write the track lines too")
    p.add_argument("--cap-out", type=Path, default=None, metavar="DIR",
                   help="write each CAP 1.2 message as an XML file in DIR")
    p.add_argument("--audit", type=Path, default=None, metavar="FILE",
                   help="append every alert change to this hash-chained audit log")
    p.add_argument("--rules", type=Path, default=None, metavar="DIR",
                   help="graduated-response rules folder (default: the shipped rules)")
    p.add_argument("--tracker-config", type=Path, default=None, metavar="TRACKER.toml",
                   help="tracker settings, as for 'skywarden track --config': a TOML file "
                        "with a [tracker] table (identity rules, gates, lag...)")
    p.add_argument("--cap-status", default="Exercise",
                   choices=["Actual", "Exercise", "System", "Test", "Draft"],
                   help="CAP status of public warnings (default: Exercise)")
    p.add_argument("--limit", type=int, default=200,
                   help="print at most this many timeline lines (default 200; 0 = all)")
    _add_strict(p)

    p = sub.add_parser(
        "decode",
        help="turn a sensor recording (ADS-B, ASTERIX, pcap, Remote ID) into detections.jsonl",
        description="Decode a recording into the shared detection format (docs/FEEDS.md): "
        "sbs = BaseStation CSV (port 30003), beast = Beast binary (port 30005), avr = raw "
        "hex lines (port 30002), asterix = raw ASTERIX data blocks (CAT048 plots, CAT062 "
        "tracks, CAT021 ADS-B), pcap = a pcap/pcapng capture of ASTERIX over UDP, "
        "remoteid = drone Remote ID frames as 'EPOCH HEX' lines (docs/REMOTEID.md). "
        "Prints decoded and rejected counts by reason; bad bytes or lines are counted, "
        "never fatal, and the output is written whole or not at all. With --site a "
        "one-receiver sensors.toml is written beside the output (if none is there), so "
        "'skywarden replay' can read the result.",
        epilog=EPILOG,
    )
    p.add_argument("file", type=Path, help="the recording")
    p.add_argument("--format", required=True, choices=list(RECORDING_FORMATS),
                   help="recording format")
    p.add_argument("-o", "--out", type=Path, required=True, metavar="detections.jsonl")
    p.add_argument("--sensor", default=None, metavar="ID",
                   help="sensor id of the receiver (sbs, beast, avr, remoteid)")
    p.add_argument("--sensors", type=Path, default=None, metavar="sensors.toml",
                   help="sensor registry whose radars carry ASTERIX 'sac' and 'sic' "
                   "(asterix, pcap: records name their sensor by SAC/SIC)")
    p.add_argument("--site", default=None, metavar="LAT,LON[,ALT]",
                   help="receiver site, degrees (and metres MSL): the reference for surface "
                   "positions and the range gate; also written to sensors.toml")
    p.add_argument("--owner", default="XXX", metavar="ISO3",
                   help="owning nation for the written sensors.toml (default XXX)")
    p.add_argument("--start", type=float, default=None, metavar="EPOCH",
                   help="beast/avr: epoch seconds of the first frame (those carry only a "
                   "receiver counter); asterix: any instant of the recording's UTC day (records "
                   "carry only the time of day). Default: the file's modification time")
    p.add_argument("--port", type=int, default=None,
                   help="pcap: only UDP datagrams to this port (others are counted as ignored)")

    p = sub.add_parser(
        "play",
        help="play a recording on the network at its own pace, as the sensor sent it",
        description="Try a site file's feeds without a receiver or a radar: sbs, avr, beast "
        "and remoteid recordings are served on a TCP port as readsb and dump1090 serve "
        "theirs (--serve; each client that connects gets the stream, the first one is "
        "waited for); a pcap capture's UDP payloads (ASTERIX) are sent to one address, "
        "unicast or multicast (--send). Each unit goes out at --speed times the pace of "
        "the recording's own clock.",
        epilog=EPILOG,
    )
    p.add_argument("file", type=Path, help="the recording")
    p.add_argument("--format", required=True, choices=["sbs", "avr", "beast", "remoteid", "pcap"])
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--serve", metavar="HOST:PORT",
                       help="serve on this TCP port (sbs, avr, beast, remoteid)")
    where.add_argument("--send", metavar="HOST:PORT",
                       help="send UDP datagrams here (pcap); a 224.0.0.0/4 host is multicast")
    p.add_argument("--speed", type=float, default=1.0,
                   help="recording seconds per real second (default 1)")
    p.add_argument("--loop", action="store_true", help="start again at the end, until Ctrl-C")

    from .zones import add_parser as add_zones_parser

    add_zones_parser(sub)
    _add_service_parsers(sub)
    return parser


RECORDING_FORMATS = ("sbs", "beast", "avr", "asterix", "pcap", "remoteid")
SERVE_EPILOG = (
    "Operating the service (data directory, organisations, tokens, roles, releasability, "
    "retention, restarts, the lag setting, the demo): docs/SERVICE.md. The API: docs/API.md."
)


def _add_service_parsers(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "serve",
        help="run the live service: tracking, warnings, REST/WebSocket API and the web map",
        description="Run the whole chain live in one process: detections come in (the site "
        "file's feeds: ADS-B receivers, ASTERIX radars and trackers, Remote ID receivers; "
        "HTTP and WebSocket ingest; or the --demo feed), are fused into tracks, assessed "
        "against borders, zones and restrictions, and turned into graduated alerts and CAP "
        "public warnings. The air picture is served at http://HOST:PORT/ (map), /api/v1/ "
        "(REST, WebSockets) and /metrics (Prometheus), and sent to the site file's outputs "
        "(TAK, webhooks, ASTERIX CAT062). Everything that must outlive a restart (track history, "
        "alerts, acknowledgements, restrictions, the audit log, organisations and token "
        "hashes) is kept in the data directory. Ctrl-C or SIGTERM stops it cleanly.",
        epilog=SERVE_EPILOG,
    )
    p.add_argument("--config", type=Path, metavar="site.toml",
                   help="the site configuration: sensors, feeds (ADS-B receivers, ASTERIX, "
                   "Remote ID), outputs (TAK, webhooks), organisations, [service] "
                   "settings and [tracker] settings (identity rules, gates), checked "
                   "whole before anything starts (docs/SITE.md; an example in "
                   "docs/examples/site.toml). An option given here wins over the file")
    p.add_argument("--host", default=None,
                   help="address to listen on (default 127.0.0.1: this machine only; "
                   "0.0.0.0 for every interface, behind a TLS proxy)")
    p.add_argument("--port", type=int, default=None, help="TCP port (default 8080)")
    p.add_argument("--data", type=Path, default=None, metavar="DIR",
                   help="data directory: the SQLite store, CAP messages, demo files "
                   "(default ./skywarden-data; made if missing)")
    p.add_argument("--demo", nargs="?", const="poland-2025-09", default=None,
                   metavar="SCENARIO",
                   help="play a simulated night as a live feed (default scenario "
                   "poland-2025-09: simulated once into DIR/demo/, then reused); the "
                   "service's clock runs in the scenario's time. Makes demo organisations "
                   "and tokens on first start (DIR/demo-tokens.txt)")
    p.add_argument("--speed", type=float, default=1.0,
                   help="with --demo: scenario seconds per real second (default 1)")
    p.add_argument("--seed", type=_seed, default=None,
                   help="with --demo: simulator seed, a whole number >= 0 (default the "
                   "scenario's)")
    p.add_argument("--sensors", type=Path, metavar="sensors.toml",
                   help="sensor registry: every sensor that may feed the service, with its "
                   "owner and releasability (needed without --demo; docs/FORMATS.md)")
    p.add_argument("--lag", type=float, default=None, metavar="S",
                   help="how long the tracker waits for out-of-order detections, in "
                   "seconds of real time (default 0.05). Longer: more stragglers taken in "
                   "order, every update that much later. Detections later than this are "
                   "counted as late (see --max-late)")
    p.add_argument("--max-late", type=float, default=None, metavar="S",
                   help="a late detection up to S seconds (real time) behind is still used, "
                   "as an out-of-sequence update; later ones are dropped and counted "
                   "(default 1; citizen reports are never dropped)")
    p.add_argument("--tick", type=float, default=None, metavar="S",
                   help="how often the picture is updated and published, in seconds of "
                   "real time (default 0.05)")
    p.add_argument("--assess-period", type=float, default=None, metavar="S",
                   help="how often every live track is assessed against borders and zones "
                   "(predicted entries) and the alerts are updated, in seconds of clock time "
                   "(default 2; shorter: earlier warnings of predicted entries, more CPU). An "
                   "entry into a nation or zone starts a cycle at once, whatever this is")
    p.add_argument("--keep-history", type=float, default=None, metavar="DAYS",
                   help="how long stored track history is kept (default 7 days; 0: for ever)")
    p.add_argument("--keep-alerts", type=float, default=None, metavar="DAYS",
                   help="how long ended alerts, their events and acknowledgements are kept "
                   "(default 365 days; 0: for ever). The audit log is never pruned here")
    p.add_argument("--cap-status", default=None,
                   choices=["Actual", "Exercise", "System", "Test", "Draft"],
                   help="CAP status of public warnings (default Exercise; Actual only for "
                   "a real deployment, never with --demo)")
    p.add_argument("--tls-cert", type=Path, default=None, metavar="cert.pem",
                   help="serve HTTPS and WSS with this certificate (PEM, the chain after "
                   "the server's own); needs --tls-key. Without it the service speaks "
                   "plain HTTP: keep it on 127.0.0.1 or behind a TLS proxy, since tokens "
                   "travel in headers")
    p.add_argument("--tls-key", type=Path, default=None, metavar="key.pem",
                   help="the certificate's private key (PEM, unencrypted)")
    p.add_argument("--ws-deflate", action="store_true", default=None,
                   help="compress WebSocket messages (permessage-deflate): about 5-10x less "
                   "to send to clients on thin links, at a CPU cost per client per tick "
                   "that delays every stream (default off)")

    p = sub.add_parser(
        "org",
        help="add an organisation (a nation, or an agency of one) to a service's store",
        description="Organisations are who tokens are issued to. Each has an ISO "
        "alpha-3 nation (what releasability is decided by) and default roles.",
        epilog=SERVE_EPILOG,
    )
    org = p.add_subparsers(dest="org_command", metavar="ACTION", required=True)
    q = org.add_parser("add", help="add an organisation")
    q.add_argument("id", help="organisation id, e.g. pol-ops")
    _data_option(q)
    q.add_argument("--name", required=True, help="readable name")
    q.add_argument("--nation", default=None, metavar="ISO3",
                   help="ISO alpha-3 nation (e.g. POL); without one it sees public data only")
    q.add_argument("--role", action="append", dest="roles", metavar="ROLE",
                   help="default role of its tokens: viewer, operator or admin "
                   "(repeatable; default viewer)")
    q.add_argument("--by", default="admin", help="who is adding it (for the audit log)")

    p = sub.add_parser(
        "token",
        help="issue or revoke an API token of an organisation",
        description="A token is shown once, when issued; the store keeps only its hash. "
        "Send it as 'Authorization: Bearer <token>'.",
        epilog=SERVE_EPILOG,
    )
    tok = p.add_subparsers(dest="token_command", metavar="ACTION", required=True)
    q = tok.add_parser("issue", help="issue a token (printed once)")
    _data_option(q)
    q.add_argument("--org", required=True, metavar="ID", help="organisation id")
    q.add_argument("--nation", default=None, metavar="ISO3",
                   help="make the organisation with this nation if it does not exist "
                   "(must match if it does)")
    q.add_argument("--role", action="append", dest="roles", metavar="ROLE",
                   help="viewer, operator or admin (repeatable; default the "
                   "organisation's roles)")
    q.add_argument("--expires-days", type=float, default=None, metavar="N",
                   help="valid for N days (default: until revoked)")
    q.add_argument("--by", default="admin", help="who is issuing it (for the audit log)")
    q = tok.add_parser("revoke", help="revoke a token by its id (the 12 hex digits "
                       "after swt_)")
    q.add_argument("token_id")
    _data_option(q)
    q.add_argument("--by", default="admin", help="who is revoking it (for the audit log)")


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(COMMANDS[args.command](args) or 0)
    except SkywardenError as exc:
        print(f"skywarden {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except FileNotFoundError as exc:
        print(f"skywarden {args.command}: error: {exc.filename}: no such file", file=sys.stderr)
        return 1
    except OSError as exc:
        # A folder where a file was meant, a file where a folder was, no permission, a full
        # disk: the user's to fix, so the path and the system's reason, not a traceback.
        blocker = _file_in_the_way(exc)
        if blocker is not None:
            why = f"{blocker}: a file, not a folder (where the output files go)"
        else:
            why = (f"{exc.filename}: " if exc.filename is not None else "") + str(
                exc.strerror or exc)
        print(f"skywarden {args.command}: error: {why}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def cmd_sim(args: argparse.Namespace) -> int:
    from .sim.runner import run_scenario
    from .sim.scenario import list_scenarios, load_scenario

    if args.list:
        for info in list_scenarios():
            print(f"{info.name:18s} {info.title}")
        return 0
    if not args.scenario or not args.out:
        print("skywarden sim: error: give a SCENARIO and -o DIR (or --list)", file=sys.stderr)
        return 2
    overrides = {k: getattr(args, k) for k in ("targets", "duration", "sensors")
                 if getattr(args, k) is not None}
    scenario = load_scenario(args.scenario, **overrides)
    t0 = time.perf_counter()
    summary = run_scenario(scenario, args.out, seed=args.seed, labels=args.labels)
    print(summary)
    print(f"wrote {args.out}/truth.jsonl, detections.jsonl, sensors.toml "
          f"in {time.perf_counter() - t0:.1f} s")
    return 0


def _progress_line() -> Callable[[int, float], None]:
    """A one-line progress report on stderr: detections read, scenario time, rate."""
    began = time.perf_counter()
    first: list[float] = []

    def show(count: int, newest: float) -> None:
        if not first:
            first.append(newest)
        wall = max(time.perf_counter() - began, 1e-9)
        print(f"\r  {count:,} detections, {newest - first[0]:,.0f} s of data, "
              f"{count / wall:,.0f} detections/s", end="", file=sys.stderr, flush=True)

    return show


def cmd_track(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from .ingest.jsonl import stderr_report
    from .track.config import TrackerConfig, load_tracker_file
    from .track.run import track_file

    _keep_inputs([args.detections, args.sensors, args.config], {"-o": args.out})
    config = load_tracker_file(args.config) if args.config else None
    if args.threads is not None:
        config = replace(config or TrackerConfig(), threads=args.threads)
    show = None if args.no_progress or not sys.stderr.isatty() else _progress_line()
    summary = track_file(args.detections, args.sensors, args.out, strict=args.strict,
                         progress=show, config=config, report=stderr_report)
    if show is not None:
        print(file=sys.stderr)
    print(summary)
    return 1 if _nothing_usable("track", args.detections, summary.lines_good,
                                summary.bad_reasons, args.sensors) else 0


def cmd_score(args: argparse.Namespace) -> int:
    from .score import score_files

    if args.detections is None and (args.nation or args.target_class or args.sensors):
        print("skywarden score: error: --nation, --class and --sensors need --detections",
              file=sys.stderr)
        return 2
    _keep_inputs([args.truth, args.tracks, args.detections, args.sensors, args.alerts],
                 {"--plot": args.plot})
    if args.plot:
        from .plot import check_image_path

        check_image_path(args.plot)
    from .ingest.jsonl import ReadStats, stderr_report

    truth_stats, track_stats = ReadStats(report=stderr_report), ReadStats(report=stderr_report)
    report = score_files(args.truth, args.tracks, c=args.c, p=args.p, alpha=args.alpha,
                         max_age=args.max_age, step=args.step,
                         confirmed_only=not args.all_tracks, strict=args.strict,
                         truth_stats=truth_stats, track_stats=track_stats)
    for path, stats, what in ((args.truth, truth_stats, "truth line"),
                              (args.tracks, track_stats, "track line")):
        # A detections or truth file given for the other: a score of nothing is no score.
        if _nothing_usable("score", path, stats.good, stats.reasons, what=what):
            return 1
    delays = None
    if args.detections is not None:
        from .score import confirmation_delays

        delays = confirmation_delays(
            args.truth, args.tracks, args.detections, registry=args.sensors,
            nation=args.nation, target_class=args.target_class,
            limit_scans=args.confirm_scans, c=args.c, p=args.p, alpha=args.alpha,
            max_age=args.max_age, strict=args.strict)
    warned = None
    if args.alerts is not None:
        from .score.warnings import score_warnings

        warned = score_warnings(args.truth, args.alerts, args.detections,
                                tracks_path=args.tracks, strict=args.strict)
    if args.json:
        import json

        import msgspec

        out = report.to_dict()
        if delays is not None:
            out["confirmation_delay"] = delays.to_dict()
        if warned is not None:
            out["warnings"] = json.loads(warned.to_json())
        print(msgspec.json.encode(out).decode())
    else:
        print(report.table())
        if delays is not None:
            print(delays.table())
        if warned is not None:
            print(warned.table())
    if args.plot:
        from .plot import plot

        plot(args.truth, args.tracks, args.plot, confirmed_only=not args.all_tracks,
             dark=args.dark)
        print(f"plot: {args.plot}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from .demo import run_demo

    return run_demo(args.scenario, args.out, seed=args.seed, plot=args.plot)


def cmd_check(args: argparse.Namespace) -> int:
    from .check import check_file

    return check_file(args.file, kind=args.kind, sensors=args.sensors)


def cmd_decode(args: argparse.Namespace) -> int:
    from .ingest.modes import Site
    from .ingest.recording import UNITS, decode_recording, registry_toml
    from .sensors import SensorRegistry

    site = None
    if args.site:
        try:
            parts = [float(x) for x in args.site.split(",")]
            if len(parts) not in (2, 3) or not (-90 <= parts[0] <= 90
                                                and -180 <= parts[1] <= 180):
                raise ValueError
        except ValueError:
            print("skywarden decode: error: --site wants LAT,LON[,ALT] in degrees (metres)",
                  file=sys.stderr)
            return 2
        site = Site(parts[0], parts[1], parts[2] if len(parts) == 3 else None)
    if not (len(args.owner) == 3 and args.owner.isalpha() and args.owner.isupper()):
        # Written into sensors.toml, which replay would then refuse.
        print(f"skywarden decode: error: --owner {args.owner!r}: not an ISO 3166-1 alpha-3 "
              "code like POL", file=sys.stderr)
        return 2
    if _bad_start(args):
        return 2
    by_sac = args.format in ("asterix", "pcap")
    if by_sac and args.sensors is None:
        print(f"skywarden decode: error: --format {args.format} needs --sensors sensors.toml "
              "(radars with 'sac' and 'sic': ASTERIX records name their sensor by them)",
              file=sys.stderr)
        return 2
    if not by_sac and args.sensor is None:
        print(f"skywarden decode: error: --format {args.format} needs --sensor ID (the "
              "receiver's sensor id)", file=sys.stderr)
        return 2
    if _no_recording("decode", args.file):
        return 1
    _keep_inputs([args.file, args.sensors], {"-o": args.out})
    registry = SensorRegistry.load(args.sensors) if args.sensors else None
    start = args.start if args.start is not None else args.file.stat().st_mtime
    try:
        counts = decode_recording(args.format, args.file, args.out, args.sensor, site=site,
                                  start=start, registry=registry, port=args.port)
    except ValueError as exc:
        print(f"skywarden decode: error: {exc}", file=sys.stderr)
        return 2
    print(counts.summary(UNITS[args.format]))
    print(f"wrote {counts.positions} detections to {args.out}")
    if not counts.positions:
        # Nothing to track: say why rather than suggest a replay of an empty file.
        if not counts.decoded:
            hint = (f"is it a {args.format} recording? (--format; `skywarden decode --help` "
                    "lists them)")
        elif any("beyond receiver range" in k for k in counts.outcomes):
            hint = ("the records held no usable position (outcomes above; positions beyond "
                    "the receiver's range point to a wrong --site)")
        else:
            hint = "the records held no usable position (outcomes above)"
        print(f"skywarden decode: error: no detection decoded from {args.file}: {hint}",
              file=sys.stderr)
        return 1
    if by_sac:
        print(f"replay with: skywarden replay {args.out} --sensors {args.sensors}")
        return 0
    registry_path = args.out.parent / "sensors.toml"
    if site is not None and not registry_path.exists():
        registry_path.write_text(registry_toml(args.sensor, site, args.owner,
                                               "remote_id" if args.format == "remoteid"
                                               else "adsb"), encoding="utf-8")
        print(f"wrote {registry_path} (sensor {args.sensor!r}); replay with: "
              f"skywarden replay {args.out}")
    elif site is None:
        print("no --site given: write a sensors.toml with this receiver's [[sensor]] "
              "(docs/FEEDS.md) before 'skywarden replay'")
    return 0


def cmd_play(args: argparse.Namespace) -> int:
    import socket

    from .ingest.sources import parse_address
    from .play import TCP_FORMATS, Server, play, units

    tcp = args.format in TCP_FORMATS
    if tcp != (args.serve is not None):
        want = "--serve HOST:PORT (a TCP port)" if tcp else "--send HOST:PORT (UDP)"
        print(f"skywarden play: error: --format {args.format} is played with {want}",
              file=sys.stderr)
        return 2
    if not args.speed > 0:
        print(f"skywarden play: error: --speed {args.speed}: must be > 0", file=sys.stderr)
        return 2
    if _no_recording("play", args.file):
        return 1
    try:
        host, port = parse_address(args.serve or args.send, "--serve" if tcp else "--send")
    except ValueError as exc:
        print(f"skywarden play: error: {exc}", file=sys.stderr)
        return 2
    server = None
    udp = None
    try:
        if tcp:
            server = Server(host, port)
            print(f"serving {args.file} ({args.format}) on {host}:{port}; waiting for a "
                  "client", file=sys.stderr)
            server.joined.wait()
            send = server.send
        else:
            udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            udp.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 1)

            def send(data: bytes) -> None:
                udp.sendto(data, (host, port))  # type: ignore[union-attr]
        while True:
            n, span = play(units(args.format, args.file), send, args.speed)
            print(f"played {n:,} units, {span:,.1f} s of the recording", file=sys.stderr)
            if not args.loop:
                return 0
    except KeyboardInterrupt:
        return 0
    except OSError as exc:
        print(f"skywarden play: error: {host}:{port}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    finally:
        if server is not None:
            server.close()
        if udp is not None:
            udp.close()


def cmd_replay(args: argparse.Namespace) -> int:
    from .errors import ConfigError
    from .ingest.jsonl import stderr_report
    from .pipeline import Pipeline, default_engine
    from .replay import replay
    from .sensors import SensorRegistry
    from .track.config import load_tracker_file

    src = args.source
    if not src.exists():
        # Said here: otherwise the first thing missed is the registry beside it.
        raise ConfigError(f"{src}: no such file or folder")
    detections = src / "detections.jsonl" if src.is_dir() else src
    sensors = args.sensors or detections.parent / "sensors.toml"
    if args.sensors is None and args.format is None and not sensors.exists():
        raise ConfigError(f"{sensors}: no sensor registry beside the detections; give "
                          "--sensors sensors.toml (docs/FORMATS.md)")
    _keep_inputs([src if args.format else detections, sensors, args.rules,
                  args.tracker_config],
                 {"--alerts-out": args.alerts_out, "--tracks-out": args.tracks_out,
                  "--audit": args.audit})
    if args.format is not None:
        return _replay_recording(args, sensors)
    tracker = load_tracker_file(args.tracker_config) if args.tracker_config else None
    engine = default_engine(
        cap_status=args.cap_status,
        audit_path=str(args.audit) if args.audit else None,
        rules_dir=str(args.rules) if args.rules else None,
    )
    pipeline = Pipeline(SensorRegistry.load(sensors), tracker_config=tracker, engine=engine)
    show = None if not sys.stderr.isatty() else _progress_line()
    summary = replay(detections, sensors, alerts_out=args.alerts_out,
                     tracks_out=args.tracks_out, cap_dir=args.cap_out, pipeline=pipeline,
                     strict=args.strict, report=stderr_report, progress=show)
    if show is not None:
        print(file=sys.stderr)
    print("alert timeline (UTC, + time since the first detection)")
    print(summary.timeline(limit=args.limit or None))
    print()
    print(summary)
    return 1 if _nothing_usable("replay", detections, summary.lines_good,
                                summary.bad_reasons, sensors) else 0


def _replay_recording(args: argparse.Namespace, sensors: Path) -> int:
    """``replay --format``: decode the recording (counts printed), then replay that."""
    import tempfile

    from .ingest.recording import UNITS, decode_recording
    from .sensors import SensorRegistry

    if args.sensors is None:
        print("skywarden replay: error: --format needs --sensors sensors.toml (the registry "
              "of the recording's sensors)", file=sys.stderr)
        return 2
    if _no_recording("replay", args.source):
        return 1
    if _bad_start(args):
        return 2
    registry = SensorRegistry.load(sensors)
    sensor = args.sensor
    if sensor is None and args.format not in ("asterix", "pcap"):
        print(f"skywarden replay: error: --format {args.format} needs --sensor ID",
              file=sys.stderr)
        return 2
    start = args.start if args.start is not None else args.source.stat().st_mtime
    with tempfile.TemporaryDirectory(prefix="skywarden-replay-") as tmp:
        decoded = Path(tmp) / "detections.jsonl"
        try:
            counts = decode_recording(args.format, args.source, decoded, sensor,
                                      start=start, registry=registry)
        except ValueError as exc:
            print(f"skywarden replay: error: {exc}", file=sys.stderr)
            return 2
        print(counts.summary(UNITS[args.format]), file=sys.stderr)
        args = argparse.Namespace(**{**vars(args), "format": None, "source": decoded})
        return cmd_replay(args)


def cmd_zones(args: argparse.Namespace) -> int:
    from .zones import run

    return run(args)


def cmd_serve(args: argparse.Namespace) -> int:
    from .serve import serve

    return serve(args)


def _open_store(data: Path):  # type: ignore[no-untyped-def]
    from .store import SqliteStore

    new = not (data / "skywarden.db").is_file()
    store = SqliteStore(data / "skywarden.db")
    if new:
        print(f"note: {data}/skywarden.db did not exist; made it", file=sys.stderr)
    return store


def cmd_org(args: argparse.Namespace) -> int:
    from .errors import ConfigError
    from .live.organisations import check_roles

    try:
        roles = check_roles(args.roles or ["viewer"])
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    if args.nation is not None and not (len(args.nation) == 3 and args.nation.isalpha()
                                        and args.nation.isupper()):
        raise ConfigError(f"--nation {args.nation!r} is not an ISO alpha-3 code like POL")
    with _open_store(args.data) as store:
        org = store.add_organisation(args.id, args.name, nation=args.nation, roles=roles,
                                     by=args.by)
    print(f"organisation {org.id} ({org.name}), nation {org.nation or '-'}, "
          f"roles {', '.join(org.roles)}")
    return 0


def cmd_token(args: argparse.Namespace) -> int:
    from .errors import ConfigError
    from .live.organisations import check_roles
    from .store import StoreError

    with _open_store(args.data) as store:
        if args.token_command == "revoke":
            if not store.revoke_token(args.token_id, by=args.by):
                raise ConfigError(f"token {args.token_id!r}: unknown or already revoked")
            print(f"token {args.token_id} revoked")
            return 0
        try:
            roles = check_roles(args.roles) if args.roles else None
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
        if args.nation is not None:
            try:
                store.add_organisation(args.org, args.org, nation=args.nation,
                                       roles=roles or ["viewer"], by=args.by)
                print(f"organisation {args.org} made (nation {args.nation})", file=sys.stderr)
            except StoreError:
                grant_nation = _org_nation(store, args.org)
                if grant_nation != args.nation:
                    raise ConfigError(f"organisation {args.org!r} exists with nation "
                                      f"{grant_nation or '(none)'}, not {args.nation}") from None
        expires = None
        if args.expires_days is not None:
            if not args.expires_days > 0:
                raise ConfigError("--expires-days must be > 0")
            expires = store.clock.now() + args.expires_days * 86400.0
        issued = store.issue_token(args.org, roles=roles, expires=expires, by=args.by)
    print(issued.token)
    print(f"token id {issued.id} for {issued.organisation}, roles {', '.join(issued.roles)}"
          f"{'' if expires is None else f', expires in {args.expires_days:g} days'}; "
          "shown once: keep it now", file=sys.stderr)
    return 0


def _org_nation(store, org_id: str) -> str | None:  # type: ignore[no-untyped-def]
    org = store.organisation(org_id)
    return org.nation if org is not None else None


COMMANDS = {
    "demo": cmd_demo,
    "sim": cmd_sim,
    "track": cmd_track,
    "score": cmd_score,
    "check": cmd_check,
    "zones": cmd_zones,
    "replay": cmd_replay,
    "decode": cmd_decode,
    "play": cmd_play,
    "serve": cmd_serve,
    "org": cmd_org,
    "token": cmd_token,
}


def _data_option(parser: argparse.ArgumentParser) -> None:
    """``--data DIR``, the service's data directory, for the commands that administer it."""
    parser.add_argument("--data", type=Path, default=Path("skywarden-data"), metavar="DIR",
                        help="the service's data directory (default ./skywarden-data)")


if __name__ == "__main__":
    sys.exit(main())
