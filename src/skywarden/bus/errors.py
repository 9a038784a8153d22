"""Errors of the bus (part of the tree drawn in :mod:`skywarden.errors`)::

    SkywardenError
     +-- BusError
          +-- SubjectError (ValueError)   a subject or pattern breaks the naming rules
          +-- BusClosedError              the bus or the subscription is closed
          +-- BusFullError                a ``block`` queue stayed full: nothing was delivered
"""

from __future__ import annotations

from ..errors import SkywardenError


class BusError(SkywardenError):
    """Root of the bus's errors."""


class SubjectError(BusError, ValueError):
    """A subject or pattern is malformed: ``subject`` and ``reason``."""

    def __init__(self, subject: object, reason: str) -> None:
        self.subject = subject
        self.reason = reason
        super().__init__(f"subject {subject!r}: {reason}")


class BusClosedError(BusError):
    """Publishing on a closed bus, or reading a closed subscription that is empty."""


class BusFullError(BusError):
    """A message could not be delivered because a ``block`` subscription stayed full.

    The message was delivered to no subscription (all or nothing), so the caller may
    retry it without duplicates. ``waited`` is how long the publisher waited (0 when it
    could not wait: a plain ``publish`` called from a thread running an event loop).
    """

    def __init__(self, subject: str, pattern: str, maxsize: int, waited: float) -> None:
        self.subject = subject
        self.pattern = pattern
        self.maxsize = maxsize
        self.waited = waited
        how = (
            f"after waiting {waited:.3g} s"
            if waited > 0
            else "without waiting (called from a running event loop: use publish_async)"
        )
        super().__init__(
            f"subject {subject!r}: subscription {pattern!r} is full ({maxsize} messages, "
            f"overflow 'block'); not delivered {how}"
        )
