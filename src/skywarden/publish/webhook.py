"""Webhooks: an HTTP(S) POST per alert event that matches a rule.

Each ``[[webhook]]`` of the site file is one URL and one rule. An alert event matches
when all of these hold (an empty list matches everything):

- ``nations``: the warned nation (``event.nation``) is listed;
- ``kinds``: the alert kind (``predicted_entry``, ``incursion``, ``restriction_violation``,
  ``sensor_down``, ...) is listed;
- ``min_level``: the event's level is at least this, **or** the alert already matched
  once: an alert, once delivered, is followed to its end, so the receiver also learns of
  its de-escalation, acknowledgement and end (levels below ``min_level``, 0 when ended);
- ``events``: the change (``raised``, ``escalated``, ``deescalated``, ``acknowledged``,
  ``ended``) is listed;

and, always, the webhook's ``nation`` may see the event (its releasability,
:func:`~skywarden.sensors.visible`): a webhook belongs to one nation like every output.

The body is JSON: ``{"skywarden": "<version>", "webhook": "<name>", "event": {...}}``,
the event as in formats.md ("Alert event"). Headers: ``Content-Type: application/json``,
``User-Agent: skywarden/<version>``, ``X-Skywarden-Delivery`` (stable for an event, the
same on every retry: receivers deduplicate with it), ``X-Skywarden-Signature:
sha256=<hex>`` (HMAC-SHA256 of the body bytes with the secret from the environment
variable ``secret_env``) when a secret is configured, plus ``headers``.

Delivery: one worker thread per webhook sends the events in order (the head is retried
before the next is tried). Connection errors, timeouts, 429 and 5xx are retried with
capped exponential backoff and jitter, waiting at least as long as a ``Retry-After``
asks; after ``max_attempts`` tries, or once the event is ``max_age_s`` old, it is given
up. Other answers (4xx, redirects: a signed POST is not followed elsewhere) fail at once.
Every event given up is logged and counted (``given_up``; ``failed`` adds those left
unsent at close); none is lost silently.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import re
import ssl
import time
import urllib.error
import urllib.request
from collections import deque
from email.utils import parsedate_to_datetime
from typing import Any, Literal
from urllib.parse import urlsplit

import msgspec

from .. import __version__
from ..backoff import Backoff
from ..errors import ConfigError
from ..records import AlertEvent, TrackUpdate
from ..sensors import visible
from ._settings import (
    Level,
    Name,
    Nation,
    QueueSize,
    Seconds,
    check_env,
    check_file,
)
from .sender import Sender

__all__ = ["EVENTS", "WebhookOutput", "WebhookSettings", "sign"]

log = logging.getLogger("skywarden.publish")

AlertChange = Literal["raised", "escalated", "deescalated", "acknowledged", "ended"]
EVENTS: tuple[AlertChange, ...] = ("raised", "escalated", "deescalated", "acknowledged", "ended")
_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")  # an HTTP header name
_RESERVED = {"content-type", "content-length", "x-skywarden-signature",
             "x-skywarden-delivery", "host"}
_encoder = msgspec.json.Encoder()


class WebhookSettings(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, frozen=True):
    """One webhook (a ``[[webhook]]`` table of the site file). Times in seconds."""

    name: Name
    url: str
    nation: Nation  # whose output this is: only events this nation may see are sent
    nations: list[Nation] = msgspec.field(default_factory=list)  # warned nations; []: all
    min_level: Level = 1
    kinds: list[str] = msgspec.field(default_factory=list)  # alert kinds; []: all
    events: list[AlertChange] = msgspec.field(default_factory=lambda: list(EVENTS))
    secret_env: str | None = None  # environment variable holding the HMAC secret
    headers: dict[str, str] = msgspec.field(default_factory=dict)
    timeout_s: Seconds = 10.0
    max_attempts: int = 8
    max_age_s: Seconds = 900.0
    queue: QueueSize = 1000
    ca_file: str | None = None  # https: a private CA (PEM) instead of the system's
    backoff_initial_s: Seconds = 0.5
    backoff_max_s: Seconds = 60.0

    def check(self) -> WebhookSettings:
        """Cross-field, URL, header and file checks (msgspec checks types and ranges)."""
        what = f"webhook {self.name!r}"
        parts = urlsplit(self.url)
        if parts.scheme not in ("http", "https"):
            raise ConfigError(f"{what}: field url: scheme must be http or https, not "
                              f"{parts.scheme!r}")
        if not parts.hostname:
            raise ConfigError(f"{what}: field url: no host in {self.url!r}")
        if parts.username or parts.password:
            raise ConfigError(f"{what}: field url: no credentials in the URL (they would "
                              "be written in the file; use headers from the environment)")
        if self.ca_file is not None and parts.scheme != "https":
            raise ConfigError(f"{what}: field ca_file: only for an https url")
        check_file(what, "ca_file", self.ca_file)
        check_env(what, "secret_env", self.secret_env)
        if not self.events:
            raise ConfigError(f"{what}: field events: empty (nothing would be sent)")
        if not 1 <= self.max_attempts <= 100:
            raise ConfigError(f"{what}: field max_attempts: {self.max_attempts} is not "
                              "in 1..100")
        if self.backoff_max_s < self.backoff_initial_s:
            raise ConfigError(f"{what}: field backoff_max_s: below backoff_initial_s")
        for key, value in self.headers.items():
            if not _TOKEN.match(key) or key.lower() in _RESERVED:
                raise ConfigError(f"{what}: field headers: {key!r} is not a header name "
                                  "that may be set")
            if "\r" in value or "\n" in value:
                raise ConfigError(f"{what}: field headers: {key!r} has a line break")
        return self

    def matches(self, e: AlertEvent) -> bool:
        """The rule alone (nations, kinds, events, min_level), without following."""
        return (e.event in self.events and e.level >= self.min_level
                and (not self.nations or e.nation in self.nations)
                and (not self.kinds or e.kind in self.kinds))


def sign(secret: bytes, body: bytes) -> str:
    """The ``X-Skywarden-Signature`` value: ``sha256=`` and the HMAC-SHA256 hex digest.
    Receivers compare with :func:`hmac.compare_digest`."""
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # a 3xx becomes an HTTPError: never re-send a signed body elsewhere


class _Job:
    __slots__ = ("after", "attempts", "body", "delivery", "event", "queued")

    def __init__(self, event: AlertEvent, body: bytes, delivery: str) -> None:
        self.event = event
        self.body = body
        self.delivery = delivery
        self.queued = time.monotonic()
        self.attempts = 0
        self.after: float | None = None  # the server's Retry-After, seconds


class _Retry(Exception):
    def __init__(self, text: str, after: float | None = None) -> None:
        super().__init__(text)
        self.after = after


class WebhookOutput(Sender):
    """Posts matching alert events to one URL, in order (module docstring). Track rows
    are not its business (:meth:`send_tracks` ignores them). The worker thread starts at
    once; :meth:`close` flushes and stops it."""

    kind = "webhook"

    def __init__(self, settings: WebhookSettings) -> None:
        self.settings = settings.check()
        super().__init__(settings.name, settings.nation, (
            "delivered", "attempts", "retries", "given_up", "dropped", "withheld",
            "unmatched", "abandoned", "errors"))
        secret = os.environ.get(settings.secret_env) if settings.secret_env else None
        self._secret = secret.encode() if secret else None
        handlers: list[Any] = [_NoRedirect()]
        if settings.ca_file is not None:
            try:
                ctx = ssl.create_default_context(cafile=settings.ca_file)
            except (OSError, ssl.SSLError) as exc:
                raise ConfigError(f"webhook {self.name!r}: field ca_file: {exc}") from exc
            handlers.append(urllib.request.HTTPSHandler(context=ctx))
        self._opener = urllib.request.build_opener(*handlers)
        self._jobs: deque[_Job] = deque()
        self._following: set[str] = set()  # alerts delivered once: followed to their end
        self._backoff = Backoff(settings.backoff_initial_s, settings.backoff_max_s)
        self._last_status: int | None = None
        self._thread.start()

    # -- the pipeline's side ---------------------------------------------------------------

    def send_tracks(self, rows: list[TrackUpdate]) -> None:
        """Webhooks carry alerts only."""

    def send_alert(self, event: AlertEvent) -> None:
        """Queue the event if the rule takes it (never blocks)."""
        with self._cond:
            if self._closing:
                return
            if not visible(event.releasability, self.nation):
                self._counts["withheld"] += 1
                return
            followed = event.alert in self._following
            if event.event == "ended":
                self._following.discard(event.alert)
            if not (self.settings.matches(event) or (
                    followed and event.event in self.settings.events)):
                self._counts["unmatched"] += 1
                return
            if event.event != "ended":
                self._following.add(event.alert)
            body = _encoder.encode({"skywarden": __version__, "webhook": self.name,
                                    "event": event})
            delivery = hashlib.sha256(_encoder.encode(event)).hexdigest()[:32]
            if len(self._jobs) >= self.settings.queue:
                lost = self._jobs.popleft()
                self._counts["dropped"] += 1
                log.error("webhook %s: queue full (%d): dropped alert %s %s", self.name,
                          self.settings.queue, lost.event.alert, lost.event.event)
            self._jobs.append(_Job(event, body, delivery))
            self._cond.notify()

    def stats(self) -> dict[str, Any]:
        with self._cond:
            c = self._counts
            out: dict[str, Any] = dict(c)
            out.update(sent=c["delivered"], failed=c["given_up"] + c["abandoned"],
                       filtered=c["withheld"] + c["unmatched"], name=self.name,
                       kind=self.kind, nation=self.nation, queued=len(self._jobs), last_error=self._last_error,
                       last_status=self._last_status)
        return out

    def close(self, timeout: float = 5.0) -> None:
        """Deliver what is queued within ``timeout`` seconds, then stop; events left are
        logged and counted as ``abandoned``."""
        self._stop_thread(timeout, self.settings.timeout_s + 1.0)
        with self._cond:
            left = list(self._jobs)
            self._jobs.clear()
            self._counts["abandoned"] += len(left)
        for job in left:
            log.error("webhook %s: closing: alert %s %s not delivered", self.name,
                      job.event.alert, job.event.event)

    # -- the worker ------------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._jobs and not self._closing:
                    self._cond.wait()
                if self._abort or not self._jobs:
                    break
                job = self._jobs[0]
            done = self._attempt(job)
            if done:
                with self._cond:
                    if self._jobs and self._jobs[0] is job:
                        self._jobs.popleft()
                continue
            delay = self._backoff.next_delay()
            if job.after is not None:
                delay = max(delay, job.after)
            self._sleep(delay)

    def _attempt(self, job: _Job) -> bool:
        """One try; True when the job is finished (delivered or given up)."""
        s = self.settings
        job.attempts += 1
        with self._cond:
            self._counts["attempts"] += 1
        try:
            status = self._post(job)
        except _Retry as exc:
            age = time.monotonic() - job.queued
            if job.attempts >= s.max_attempts or age >= s.max_age_s:
                self._give_up(job, f"{exc}; gave up after {job.attempts} attempts, "
                                   f"{age:.0f} s")
                return True
            with self._cond:
                self._counts["retries"] += 1
                self._last_error = str(exc)
            if self._backoff.failures == 0:
                log.warning("webhook %s: %s (retrying; counted)", self.name, exc)
            job.after = (None if exc.after is None
                         else min(exc.after, max(0.0, s.max_age_s - age)))
            return False
        except _Fail as exc:
            self._give_up(job, str(exc))
            return True
        with self._cond:
            self._counts["delivered"] += 1
            self._last_status = status
        self._backoff.reset()
        return True

    def _post(self, job: _Job) -> int:
        s = self.settings
        headers = {"Content-Type": "application/json",
                   "User-Agent": f"skywarden/{__version__}",
                   "X-Skywarden-Delivery": job.delivery, **s.headers}
        if self._secret is not None:
            headers["X-Skywarden-Signature"] = sign(self._secret, job.body)
        request = urllib.request.Request(s.url, data=job.body, headers=headers,
                                         method="POST")
        try:
            with self._opener.open(request, timeout=s.timeout_s) as response:
                response.read(65536)
                status = int(response.status)
        except urllib.error.HTTPError as exc:
            with exc:
                self._last_status = exc.code
                if exc.code == 429 or exc.code >= 500:
                    raise _Retry(f"HTTP {exc.code} from {s.url}",
                                 _retry_after(exc.headers.get("Retry-After"))) from exc
                raise _Fail(f"HTTP {exc.code} from {s.url} (not retried)") from exc
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", exc)
            raise _Retry(f"posting to {s.url}: {reason}") from exc
        return status

    def _give_up(self, job: _Job, text: str) -> None:
        with self._cond:
            self._counts["given_up"] += 1
            self._last_error = text
        log.error("webhook %s: alert %s %s not delivered: %s", self.name, job.event.alert,
                  job.event.event, text)
        self._backoff.reset()

    def _sleep(self, delay: float) -> None:
        end = time.monotonic() + delay
        with self._cond:
            while not self._abort and (left := end - time.monotonic()) > 0:
                self._cond.wait(left)


class _Fail(Exception):
    pass


def _retry_after(value: str | None) -> float | None:
    """``Retry-After`` in seconds (delta-seconds or an HTTP date), None if absent or bad."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())
