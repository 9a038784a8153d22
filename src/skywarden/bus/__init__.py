"""The bus: publish / subscribe by subject, with bounded queues and stated overflow rules.

- :mod:`.base`: the interface (:class:`Bus`, :class:`Subscription`), overflow rules,
  :class:`Delivery` and the counters;
- :mod:`.local`: :class:`LocalBus`, in one process (the embedded default);
- :mod:`.subjects`: NATS subject rules, wildcard matching, the pipeline's subjects;
- :mod:`.codec`: JSON encoding for a bus that crosses process boundaries.

Stages depend on the interface only, so a NATS JetStream bus can replace the local one
without touching them.
"""

from . import subjects
from .base import (
    OVERFLOWS,
    Bus,
    BusCounters,
    Delivery,
    Message,
    Overflow,
    Subscription,
    SubscriptionStats,
)
from .codec import decode, encode
from .errors import BusClosedError, BusError, BusFullError, SubjectError
from .local import LocalBus, LocalSubscription
from .subjects import grid_cell, matches

__all__ = [
    "Bus",
    "BusClosedError",
    "BusCounters",
    "BusError",
    "BusFullError",
    "Delivery",
    "LocalBus",
    "LocalSubscription",
    "Message",
    "OVERFLOWS",
    "Overflow",
    "SubjectError",
    "Subscription",
    "SubscriptionStats",
    "decode",
    "encode",
    "grid_cell",
    "matches",
    "subjects",
]
