"""Errors of the live service (part of the tree drawn in :mod:`skywarden.errors`)::

    SkywardenError
     +-- AlertEndedError (LookupError)        acknowledging an alert that has ended (409)
     +-- UnknownRestrictionError (LookupError) ending a restriction not in force (404)
     +-- ConfigError (ValueError)
          +-- ZoneError
               +-- RestrictionError             a restriction refused: where, why (400)

An unknown alert id is :class:`skywarden.warn.alerts.UnknownAlertError` (404).
"""

from __future__ import annotations

from ..errors import SkywardenError, ZoneError


class AlertEndedError(SkywardenError, LookupError):
    """The alert exists but has ended; an ended alert cannot be acknowledged."""

    def __init__(self, alert_id: str, ended: float) -> None:
        self.alert_id = alert_id
        self.ended = ended
        super().__init__(f"alert {alert_id!r} ended at {ended:.0f} (epoch s); "
                         "an ended alert cannot be acknowledged")


class RestrictionError(ZoneError):
    """A restriction refused: ``where`` names the field, ``reason`` says why."""

    def __init__(self, where: str, reason: str) -> None:
        super().__init__("restriction", where, reason)


class UnknownRestrictionError(SkywardenError, LookupError):
    """No restriction in force has this id."""

    def __init__(self, zone_id: str) -> None:
        self.zone_id = zone_id
        super().__init__(f"no restriction {zone_id!r} in force")
