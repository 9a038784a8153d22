"""The warning stage wired: rules -> alert state machine -> audit log and CAP messages.

:class:`WarningEngine` is what a pipeline holds: one call per assessment cycle returns
the alert events (to publish) and the CAP messages of public warnings; every event and
every CAP message is written to the audit log first, when there is one.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field

from ..records import AlertEvent
from .alerts import Alert, AlertConfig, AlertState
from .audit import AuditLog
from .cap import CapArea, CapIssuer, CapMessage
from .input import Assessment
from .rules import Rulebook, load_rulebook

AreaFn = Callable[[AlertEvent, Alert], CapArea | None]


@dataclass(slots=True)
class WarningOutput:
    events: list[AlertEvent] = field(default_factory=list)
    cap: list[CapMessage] = field(default_factory=list)


class WarningEngine:
    """Rules, alerts, audit and CAP together.

    ``area`` optionally gives the area a public warning covers (a zone's polygon, a
    corridor clipped to the nation, with region names); ``None`` from it, or no ``area``,
    means the issuer's default corridor around the predicted path.
    """

    def __init__(
        self,
        rulebook: Rulebook | None = None,
        config: AlertConfig | None = None,
        *,
        audit: AuditLog | None = None,
        cap: CapIssuer | None = None,
        area: AreaFn | None = None,
    ) -> None:
        self.rulebook = rulebook or load_rulebook()
        self.state = AlertState(self.rulebook, config)
        self.audit = audit
        self.cap = cap
        self.area = area

    def step(
        self,
        assessment: Assessment,
        now: float,
        *,
        sensors_seen: Mapping[str, float] | None = None,
        gone_tracks: Iterable[str] = (),
        only_tracks: Collection[str] | None = None,
    ) -> WarningOutput:
        events = self.state.step(
            assessment, now, sensors_seen=sensors_seen, gone_tracks=gone_tracks,
            only_tracks=only_tracks,
        )
        out = self._handle(events)
        if self.cap is not None:
            # public warnings follow their alerts' tracks between events
            for msg in self.cap.refresh(self.state.alerts, now):
                self._record_cap(msg, now)
                out.cap.append(msg)
        return out

    def acknowledge(
        self, alert_id: str, by: str, now: float, note: str | None = None
    ) -> AlertEvent:
        event = self.state.acknowledge(alert_id, by, now, note)
        self._handle([event])
        return event

    def _handle(self, events: list[AlertEvent]) -> WarningOutput:
        out = WarningOutput(events=events)
        for event in events:
            if self.audit is not None:
                self.audit.record(event)
            if self.cap is None or event.kind == "sensor_down":
                continue
            alert = self.state.alerts.get(event.alert)
            area = self.area(event, alert) if self.area and alert else None
            for msg in self.cap.on_event(event, alert, area):
                self._record_cap(msg, event.time)
                out.cap.append(msg)
        return out

    def _record_cap(self, msg: CapMessage, now: float) -> None:
        if self.audit is not None:
            self.audit.append(now, "system", f"cap_{msg.msg_type.lower()}", msg.alert_id, {
                "identifier": msg.identifier,
                "sent": msg.sent,
                "status": msg.status,
                "references": list(msg.references),
                "incidents": list(msg.incidents),
            })
