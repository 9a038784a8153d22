"""``skywarden serve``: the runtime, the API app and the web server, started and stopped.

Order of things: the clock and sensor registry (the demo's, or ``--sensors``), the
:class:`Runtime` (which restores open alerts and restrictions from the data directory),
the demo organisations and tokens on a demo's first start, the ASGI app
(:func:`skywarden.api.app.create_app`), then uvicorn. Uvicorn handles Ctrl-C and SIGTERM:
it stops accepting, closes the WebSockets and returns (re-raising the signal, which the
handler here turns into a clean return); then the demo feed stops and the runtime
writes what is queued and closes the store. Exit status 0.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys

from ..clock import Clock, SimClock, WallClock
from ..errors import ConfigError
from ..sensors import SensorRegistry
from ..store import DAY
from .runtime import Runtime
from .settings import Retention, RuntimeSettings

__all__ = ["serve"]

log = logging.getLogger("skywarden.live")


class _Stopped(Exception):
    """Ctrl-C or SIGTERM: stop cleanly (uvicorn re-raises the signal once it has shut
    down; this handler turns it into a clean return, so the runtime is closed)."""


def _stop(signum: int, frame: object) -> None:
    raise _Stopped(signal.Signals(signum).name)


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def serve(args: argparse.Namespace) -> int:
    import uvicorn

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s "
                        "%(message)s")
    if not 1 <= args.port <= 65535:
        raise ConfigError(f"--port {args.port}: not a TCP port (1-65535)")
    if not args.speed > 0:
        raise ConfigError(f"--speed {args.speed}: must be > 0")
    if args.demo and args.cap_status == "Actual":
        raise ConfigError("--cap-status Actual with --demo: a simulated night must never "
                          "send real public warnings")
    if not 0 <= args.lag <= 60:
        raise ConfigError(f"--lag {args.lag}: seconds of waiting, 0-60")
    # --lag and --max-late are real (wall) time: stragglers come from the network and the
    # machine, whatever the demo's speed; the tracker counts in clock seconds.
    speed = args.speed if args.demo else 1.0
    if not 0 <= args.max_late <= 3600:
        raise ConfigError(f"--max-late {args.max_late}: seconds, 0-3600")
    settings = RuntimeSettings(data_dir=args.data, reorder_lag=args.lag * speed,
                               max_late_s=args.max_late * speed, tick_s=args.tick,
                               assess_period=args.assess_period,
                               retention=_retention(args),
                               cap_status=args.cap_status or "Exercise")
    feed = None
    clock: Clock
    if args.demo:
        from .demo import DemoFeed, first_detection_time, prepare_demo

        _say(f"demo {args.demo}: preparing the simulated night in {args.data}/demo/ "
             "(simulated once, about 20 s; reused after)")
        folder = prepare_demo(args.demo, args.data, seed=args.seed)
        registry = SensorRegistry.load(args.sensors or folder / "sensors.toml")
        clock = SimClock(first_detection_time(folder), speed=args.speed)
    else:
        if args.sensors is None:
            raise ConfigError("give --sensors sensors.toml (the registry of the sensors that "
                              "will feed the service), or --demo to play a simulated night")
        registry = SensorRegistry.load(args.sensors)
        clock = WallClock()
    runtime = Runtime(registry, settings, clock=clock, demo=args.demo)
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, _stop)
    try:
        try:
            from ..api.app import create_app
        except ImportError as exc:
            raise ConfigError(f"the API package cannot be loaded: {exc}") from exc
        if args.demo:
            from .organisations import demo_tokens

            path, tokens, made = demo_tokens(runtime.store, args.data)
            operator = next((t for t in tokens if t.role == "operator"), None)
            _say(f"demo tokens {'written to' if made else 'in'} {path} (readable by you only)")
            if operator is not None:
                _say(f"sign in as {operator.organisation} ({operator.nation}, operator): "
                     f"{operator.token}")
        if runtime.restored_alerts:
            _say(f"restart: {runtime.restored_alerts} open alert(s) restored")
        app = create_app(runtime)
        runtime.start()
        if args.demo:
            feed = DemoFeed(runtime, folder, clock)  # type: ignore[arg-type]
            feed.start()
        _say(f"serving on http://{args.host}:{args.port}/  (map), /api/v1/ (API), "
             "/metrics; Ctrl-C to stop")
        config = uvicorn.Config(app, host=args.host, port=args.port, log_level="info",
                                lifespan="on")
        uvicorn.Server(config).run()
    except _Stopped as stop:
        _say(f"{stop}: stopping")
    finally:
        if feed is not None:
            feed.stop()
        runtime.close()
        _say("stopped; the store is closed")
    return 0


def _retention(args: argparse.Namespace) -> Retention:
    for flag, days in (("--keep-history", args.keep_history), ("--keep-alerts", args.keep_alerts)):
        if not 0 <= days <= 36500:
            raise ConfigError(f"{flag} {days}: days, 0 (for ever) to 36500")
    return Retention(track_history_s=args.keep_history * DAY or None,
                     events_s=args.keep_alerts * DAY or None)
