"""Helpers shared by the tests (tests/ is on sys.path under pytest's default import mode)."""

from __future__ import annotations

import time
from collections.abc import Callable


def wait_until(cond: Callable[[], object], timeout: float = 5.0, step: float = 0.01) -> bool:
    """Poll ``cond`` until it is true or ``timeout`` seconds pass; its last answer. For
    threads and sockets that finish their work a little later than the call that asks."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(step)
    return bool(cond())
