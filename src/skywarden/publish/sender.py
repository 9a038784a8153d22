"""What every output shares: a sender thread fed under one condition, counters, one log
line per outage, and a shutdown that first lets the queue drain, then aborts.

The pipeline's side of an output only queues (under ``_cond``) and never blocks; the
thread (``_run``, each output's own) sends. ``close(timeout)`` sets ``_closing`` and
waits ``timeout`` for the thread to finish what is queued; if it has not, it sets
``_abort`` and waits ``grace`` more (a write or a request in flight has its own
timeout). What is still queued then is the output's to count (``_abandon``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable

log = logging.getLogger("skywarden.publish")

__all__ = ["Sender"]


class Sender:
    """Base of the outputs (module docstring). ``kind`` names the output in logs and
    thread names; ``counters`` are the names its stats count."""

    kind = "output"

    def __init__(self, name: str, nation: str, counters: Iterable[str]) -> None:
        self.name = name
        self.nation = nation
        self._cond = threading.Condition()
        self._closing = False
        self._abort = False
        self._outage = False  # failing since the last success
        self._last_error = ""
        self._counts = dict.fromkeys(counters, 0)
        self._thread = threading.Thread(target=self._run, name=f"{self.kind}-{name}",
                                        daemon=True)

    def _run(self) -> None:
        raise NotImplementedError

    def _stop_thread(self, timeout: float, grace: float) -> None:
        """Let the thread drain for ``timeout`` seconds, then abort it (``grace`` more)."""
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        self._thread.join(timeout)
        if self._thread.is_alive():
            with self._cond:
                self._abort = True
                self._cond.notify_all()
            self._thread.join(grace)

    def _failed(self, text: str, then: str) -> None:
        """Count a failure; log it once per outage (``then``: what happens next), not per
        retry, so a receiver that is down for an hour does not fill the log."""
        with self._cond:
            self._counts["errors"] += 1
            first = not self._outage
            self._outage = True
            self._last_error = text
        if first:
            log.warning("%s %s: %s (%s)", self.kind, self.name, text, then)

    def _recovered(self) -> None:
        with self._cond:
            self._outage = False
