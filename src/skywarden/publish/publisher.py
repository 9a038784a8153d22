"""The publisher: a bus consumer thread that hands tracks and alerts to the outputs.

It subscribes like the store writer does (``live/writer.py``): ``tracks.*`` with overflow
``drop_oldest`` (under overload the outputs miss rows, counted by the bus, never the
newest) and ``alerts.*`` with ``block`` (never dropped). Each pass takes everything
queued, alerts first, and calls every output's ``send_alert(event)`` and
``send_tracks(rows)``. Outputs only queue (each has its own sender thread, bounded
queues and retries), so one slow or dead endpoint never holds up the others or the
pipeline; an output that raises is counted and logged once, and the others go on.

Releasability is enforced by each output for its own nation (``visible``), not here,
so an output can never be handed something and forget to check.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from typing import Any, Protocol

from ..bus import Bus, Delivery
from ..errors import ConfigError, SkywardenError
from ..records import AlertEvent, TrackUpdate
from .asterix_out import Cat062Output, Cat062Settings
from .tak import TakOutput, TakSettings
from .webhook import WebhookOutput, WebhookSettings

__all__ = ["Output", "OutputSettings", "Publisher", "make_outputs", "start_outputs"]

log = logging.getLogger("skywarden.publish")


class Output(Protocol):
    """What the publisher needs of an output. ``send_*`` must not block. ``stats()``
    returns a dict with at least ``name``, ``kind`` and the counters every output keeps:
    ``sent`` (delivered), ``dropped`` (lost to a full queue), ``failed`` (given up, or
    left unsent at close), ``filtered`` (not for this output: releasability, rule,
    throttling); the rest is the output's own detail."""

    name: str

    def send_tracks(self, rows: list[TrackUpdate]) -> None: ...

    def send_alert(self, event: AlertEvent) -> None: ...

    def close(self, timeout: float = 5.0) -> None: ...

    def stats(self) -> dict[str, Any]: ...


OutputSettings = TakSettings | WebhookSettings | Cat062Settings


def make_outputs(settings: Sequence[OutputSettings]) -> list[Output]:
    """One output per settings struct (each checked, each starting its sender thread).
    Names must differ: they label the outputs' counters."""
    names = [s.name for s in settings]
    if twice := sorted({n for n in names if names.count(n) > 1}):
        raise ConfigError(f"outputs: field name: {', '.join(map(repr, twice))} used twice")
    outputs: list[Output] = []
    try:
        for s in settings:
            if isinstance(s, TakSettings):
                outputs.append(TakOutput(s))
            elif isinstance(s, Cat062Settings):
                outputs.append(Cat062Output(s))
            else:
                outputs.append(WebhookOutput(s))
    except BaseException:
        for o in outputs:
            o.close(0.0)
        raise
    return outputs


def start_outputs(bus: Bus, settings: Sequence[OutputSettings], **kw: Any) -> Publisher:
    """The outputs of ``settings`` and a started :class:`Publisher` feeding them from
    ``bus`` (``kw``: the publisher's options). ``close()`` it to stop them all."""
    return Publisher(bus, make_outputs(settings), **kw).start()


class Publisher:
    """Bus -> outputs (module docstring). Subscribes at construction, so nothing
    published after it is missed; :meth:`start` starts the thread."""

    def __init__(self, bus: Bus, outputs: list[Output], *, track_queue: int = 256,
                 alert_queue: int = 1024, poll_s: float = 0.25) -> None:
        self.outputs = list(outputs)
        self.poll_s = poll_s
        self.tracks = bus.subscribe("tracks.*", overflow="drop_oldest", maxsize=track_queue)
        self.alerts = bus.subscribe("alerts.*", overflow="block", maxsize=alert_queue)
        self._stop = threading.Event()
        self._lock = threading.Lock()  # one dispatching pass at a time
        self._thread: threading.Thread | None = None
        self._counts = {"passes": 0, "rows": 0, "alerts": 0}
        self._errors: dict[str, int] = {o.name: 0 for o in self.outputs}

    def start(self) -> Publisher:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="publisher", daemon=True)
            self._thread.start()
        return self

    def pump(self) -> int:
        """Dispatch everything queued now (the thread does this; callable from tests or a
        caller that needs it done); returns the records handed over."""
        with self._lock:
            return self._dispatch([], self.alerts.drain(), self.tracks.drain())

    def close(self, timeout: float = 5.0) -> None:
        """Stop the thread, hand over what is queued, then close the outputs, each given
        ``timeout`` seconds to flush."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self.pump()
        self.tracks.close()
        self.alerts.close()
        for o in self.outputs:
            try:
                o.close(timeout)
            except Exception as exc:  # one output's bug must not keep the others open
                log.error("publish: closing output %s failed: %s", o.name, exc)

    def stats(self) -> dict[str, Any]:
        outputs: dict[str, Any] = {}
        for o in self.outputs:
            try:
                outputs[o.name] = o.stats()
            except Exception as exc:
                outputs[o.name] = {"error": str(exc)}
        tracks, alerts = self.tracks.stats(), self.alerts.stats()
        return {
            **self._counts,
            "output_errors": dict(self._errors),
            "dropped_track_messages": sum(tracks.dropped.values()),
            "queued": tracks.queued + alerts.queued,
            "outputs": outputs,
        }

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                first = [self.tracks.get_blocking(self.poll_s)]
            except TimeoutError:
                first = []
            except SkywardenError:  # the bus closed
                first = []
                self._stop.wait(self.poll_s)
            with self._lock:
                self._dispatch(first, self.alerts.drain(), self.tracks.drain())

    def _dispatch(self, first: list[Delivery], alerts: list[Delivery],
                  tracks: list[Delivery]) -> int:
        events = [d.message for d in alerts if isinstance(d.message, AlertEvent)]
        rows: list[TrackUpdate] = []
        for d in first + tracks:
            msg = d.message
            items = msg if isinstance(msg, list | tuple) else [msg]
            rows.extend(u for u in items if isinstance(u, TrackUpdate))
        for o in self.outputs:
            for e in events:
                self._call(o, o.send_alert, e)
            if rows:
                self._call(o, o.send_tracks, rows)
        self._counts["passes"] += 1
        self._counts["rows"] += len(rows)
        self._counts["alerts"] += len(events)
        return len(rows) + len(events)

    def _call(self, output: Output, method: Any, arg: Any) -> None:
        try:
            method(arg)
        except Exception as exc:  # counted and logged once; the other outputs go on
            self._errors[output.name] = self._errors.get(output.name, 0) + 1
            if self._errors[output.name] == 1:
                log.error("publish: output %s failed: %s (further failures only counted)",
                          output.name, exc)
