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
from pathlib import Path
from typing import Any

from .clock import Clock, SimClock, WallClock
from .errors import ConfigError
from .live.feeds import start_feeds
from .live.runtime import Runtime
from .live.settings import Retention, RuntimeSettings
from .live.site import SiteConfig, load_site
from .sensors import SensorRegistry
from .store import DAY

__all__ = ["serve"]

log = logging.getLogger("skywarden.live")


class _Stopped(Exception):
    """Ctrl-C or SIGTERM: stop cleanly (uvicorn re-raises the signal once it has shut
    down; this handler turns it into a clean return, so the runtime is closed)."""


def _stop(signum: int, frame: object) -> None:
    raise _Stopped(signal.Signals(signum).name)


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


# The options [service] may set, with the defaults used when neither the command line
# nor the site file gives one.
DEFAULTS: dict[str, Any] = {
    "host": "127.0.0.1", "port": 8080, "data": Path("skywarden-data"), "lag": 0.05,
    "max_late": 1.0, "tick": 0.05, "assess_period": 2.0, "keep_history": 7.0,
    "keep_alerts": 365.0, "cap_status": None, "ws_deflate": False, "tls_cert": None,
    "tls_key": None,
}


def resolve(args: argparse.Namespace, site: SiteConfig | None) -> argparse.Namespace:
    """The options in force: the command line's, else the site file's, else DEFAULTS."""
    args = argparse.Namespace(**vars(args))
    for key, default in DEFAULTS.items():
        value = getattr(args, key, None)
        if value is None and site is not None:
            value = getattr(site.service, key)
            if key in ("data", "tls_cert", "tls_key") and value is not None:
                # relative to the site file, so the service finds them from any cwd
                value = (site.path.parent / value).resolve()
        setattr(args, key, default if value is None else value)
    return args


def _tls(cert: Path | str | None, key: Path | str | None) -> dict[str, str]:
    """Uvicorn's TLS options for ``--tls-cert``/``--tls-key``, after loading the pair
    once here so that a wrong file is named before the service starts (empty: plain
    HTTP)."""
    import ssl

    if cert is None and key is None:
        return {}
    if cert is None or key is None:
        raise ConfigError("--tls-cert and --tls-key come together (the certificate and its "
                          "private key, PEM)")
    for flag, path in (("--tls-cert", cert), ("--tls-key", key)):
        if not Path(path).is_file():
            raise ConfigError(f"{flag} {path}: no such file")
    try:
        ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(str(cert), str(key))
    except (ssl.SSLError, OSError) as exc:
        raise ConfigError(f"--tls-cert {cert} with --tls-key {key}: not a PEM certificate and "
                          f"its unencrypted private key ({exc})") from exc
    return {"ssl_certfile": str(cert), "ssl_keyfile": str(key)}


def serve(args: argparse.Namespace) -> int:
    import uvicorn

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s "
                        "%(message)s")
    site = load_site(args.config) if getattr(args, "config", None) is not None else None
    args = resolve(args, site)
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
    if Path(args.data).exists() and not Path(args.data).is_dir():
        raise ConfigError(f"--data {args.data}: a file, not a folder (the data directory: "
                          "the store, the demo's simulation; made if missing)")
    tls = _tls(args.tls_cert, args.tls_key)
    settings = RuntimeSettings(data_dir=args.data, reorder_lag=args.lag * speed,
                               max_late_s=args.max_late * speed, tick_s=args.tick,
                               assess_period=args.assess_period,
                               retention=_retention(args),
                               cap_status=args.cap_status or "Exercise")
    feed = None
    clock: Clock
    if args.demo:
        from .live.demo import DemoFeed, first_detection_time, prepare_demo

        _say(f"demo {args.demo}: preparing the simulated night in {args.data}/demo/ "
             "(simulated once, about 20 s; reused after)")
        folder = prepare_demo(args.demo, args.data, seed=args.seed)
        registry = SensorRegistry.load(args.sensors or folder / "sensors.toml")
        clock = SimClock(first_detection_time(folder), speed=args.speed)
    else:
        if args.sensors is None and (site is None or site.registry is None):
            raise ConfigError("give --config site.toml (sensors, feeds, outputs: docs/SITE.md) "
                              "or --sensors sensors.toml (the registry of the sensors that will "
                              "feed the service), or --demo to play a simulated night")
        registry = SensorRegistry.load(args.sensors) if args.sensors else site.registry  # type: ignore[union-attr]
        clock = WallClock()
    if site is not None and site.registry is not None and registry is not site.registry:
        registry = _merge(registry, site.registry)
    runtime = Runtime(registry, settings, clock=clock, demo=args.demo,
                      tracker_config=site.tracker if site is not None else None)
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, _stop)
    feeds: list[Any] = []
    publisher = None
    try:
        try:
            from .api.app import create_app
        except ImportError as exc:
            raise ConfigError(f"the API package cannot be loaded: {exc}") from exc
        if args.demo:
            from .live.organisations import demo_tokens

            path, tokens, made = demo_tokens(runtime.store, args.data)
            operator = next((t for t in tokens if t.role == "operator"), None)
            _say(f"demo tokens {'written to' if made else 'in'} {path} (readable by you only)")
            if operator is not None:
                _say(f"sign in as {operator.organisation} ({operator.nation}, operator): "
                     f"{operator.token}")
        if site is not None:
            _organisations(runtime, site)
        if runtime.restored_alerts:
            _say(f"restart: {runtime.restored_alerts} open alert(s) restored")
        app = create_app(runtime)
        runtime.start()
        if site is not None and site.outputs:
            from .publish.publisher import start_outputs

            publisher = start_outputs(runtime.bus, [o.settings for o in site.outputs])
            runtime.attach_outputs(publisher)
            _say(f"outputs: {', '.join(f'{o.name} ({o.type})' for o in site.outputs)}")
        if site is not None and site.feeds:
            feeds = start_feeds(site.feeds, runtime.registry, runtime.ingest_records,
                                now=runtime.clock.now)
            runtime.attach_feeds(feeds)
            _say(f"feeds: {', '.join(f'{f.name} ({f.settings.type})' for f in feeds)}")
        if args.demo:
            feed = DemoFeed(runtime, folder, clock)  # type: ignore[arg-type]
            feed.start()
        scheme = "https" if tls else "http"
        _say(f"serving on {scheme}://{args.host}:{args.port}/  (map), /api/v1/ (API), "
             "/metrics; Ctrl-C to stop")
        # WebSocket compression (permessage-deflate) is off unless asked for: deflating
        # every client's copy of every tick on the event loop was the largest single
        # cost of the stream (docs/PERFORMANCE.md, "Live service"); turn it on for
        # clients on thin links.
        config = uvicorn.Config(app, host=args.host, port=args.port, log_level="info",
                                lifespan="on",
                                ws_per_message_deflate=bool(args.ws_deflate), **tls)
        uvicorn.Server(config).run()
    except _Stopped as stop:
        _say(f"{stop}: stopping")
    finally:
        for f in feeds:
            f.stop()
        if feed is not None:
            feed.stop()
        if publisher is not None:
            publisher.close()
        runtime.close()
        _say("stopped; the store is closed")
    return 0


def _merge(first: SensorRegistry, second: SensorRegistry) -> SensorRegistry:
    """The demo's registry and the site file's sensors together (ids must not clash)."""
    clash = sorted(set(first.ids) & set(second.ids))
    if clash:
        raise ConfigError(f"{second.source}: sensor id(s) {', '.join(clash)} are already in "
                          f"{first.source}")
    return SensorRegistry([*first, *second], f"{first.source} + {second.source}")


def _organisations(runtime: Runtime, site: SiteConfig) -> None:
    """Make the file's organisations that the store does not have yet; one the store has
    with another nation is an error (a token's rights must not change silently)."""
    for org in site.organisations:
        have = runtime.store.organisation(org.id)
        if have is None:
            runtime.store.add_organisation(org.id, org.name, nation=org.nation,
                                           roles=list(org.roles), by=f"config:{site.path.name}")
            _say(f"organisation {org.id} ({org.nation or 'no nation'}) made from {site.path}")
        elif have.nation != org.nation:
            raise ConfigError(f"{site.path}: organisation {org.id!r} is in the store with "
                              f"nation {have.nation or '(none)'}, not {org.nation or '(none)'}")


def _retention(args: argparse.Namespace) -> Retention:
    for flag, days in (("--keep-history", args.keep_history), ("--keep-alerts", args.keep_alerts)):
        if not 0 <= days <= 36500:
            raise ConfigError(f"{flag} {days}: days, 0 (for ever) to 36500")
    return Retention(track_history_s=args.keep_history * DAY or None,
                     events_s=args.keep_alerts * DAY or None)
