"""Webhooks against a real HTTP server on 127.0.0.1: envelope, signature, retries,
Retry-After, permanent failures, order, rule filtering and releasability."""

import hashlib
import hmac
import json
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import msgspec
import pytest

import skywarden
from skywarden.errors import ConfigError
from skywarden.publish.webhook import WebhookOutput, WebhookSettings, _retry_after, sign
from skywarden.records import AlertEvent
from support import wait_until

T0 = 1_800_000_000.0
FAST = dict(backoff_initial_s=0.02, backoff_max_s=0.1, timeout_s=2.0)


class Receiver:
    """An HTTP server that records each POST and answers from a script (then 200)."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, str], bytes]] = []
        self.script: deque[tuple[int, dict[str, str]]] = deque()
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with outer.lock:
                    outer.requests.append((self.path, dict(self.headers), body))
                    status, headers = outer.script.popleft() if outer.script else (200, {})
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,),
                                       daemon=True)
        self.thread.start()

    def bodies(self) -> list[dict]:
        with self.lock:
            return [json.loads(b) for _, _, b in self.requests]

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.stop()


def alert(alert_id="A1", **kw) -> AlertEvent:
    base = dict(time=T0, alert=alert_id, event="raised", level=3, kind="incursion",
                nation="POL", track="T1", lat=52.0, lon=21.0, actions=["notify_atc"])
    base.update(kw)
    return AlertEvent(**base)


def hook(url: str, **kw) -> WebhookOutput:
    settings = dict(name="ops", url=url, nation="POL", **FAST)
    settings.update(kw)
    return WebhookOutput(WebhookSettings(**settings))


def test_an_alert_is_posted_as_signed_json_with_an_envelope(receiver, monkeypatch):
    monkeypatch.setenv("SKYWARDEN_TEST_HOOK_SECRET", "s3cret")
    out = hook(receiver.url, secret_env="SKYWARDEN_TEST_HOOK_SECRET",
               headers={"X-Team": "north"})
    try:
        out.send_alert(alert())
        assert wait_until(lambda: len(receiver.requests) == 1)
    finally:
        out.close()
    path, headers, body = receiver.requests[0]
    assert path == "/hook"
    payload = json.loads(body)
    assert payload["skywarden"] == skywarden.__version__ and payload["webhook"] == "ops"
    assert payload["event"] == {"time": T0, "alert": "A1", "event": "raised", "level": 3,
                                "kind": "incursion", "nation": "POL", "track": "T1",
                                "lat": 52.0, "lon": 21.0, "actions": ["notify_atc"]}
    expected = "sha256=" + hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    assert headers["X-Skywarden-Signature"] == expected == sign(b"s3cret", body)
    assert headers["Content-Type"] == "application/json"
    assert headers["X-Team"] == "north"
    assert len(headers["X-Skywarden-Delivery"]) == 32
    assert out.stats()["delivered"] == 1


def test_no_signature_without_a_secret(receiver):
    out = hook(receiver.url)
    try:
        out.send_alert(alert())
        assert wait_until(lambda: len(receiver.requests) == 1)
    finally:
        out.close()
    assert "X-Skywarden-Signature" not in receiver.requests[0][1]


def test_a_503_is_retried_with_the_same_delivery_id(receiver):
    receiver.script.append((503, {}))
    out = hook(receiver.url)
    try:
        out.send_alert(alert())
        assert wait_until(lambda: out.stats()["delivered"] == 1)
    finally:
        out.close()
    assert len(receiver.requests) == 2
    ids = {h["X-Skywarden-Delivery"] for _, h, _ in receiver.requests}
    assert len(ids) == 1
    stats = out.stats()
    assert stats["attempts"] == 2 and stats["retries"] == 1 and stats["failed"] == 0


def test_a_429_waits_as_long_as_retry_after_asks(receiver):
    receiver.script.append((429, {"Retry-After": "1"}))
    out = hook(receiver.url)
    try:
        started = time.monotonic()
        out.send_alert(alert())
        assert wait_until(lambda: out.stats()["delivered"] == 1)
        assert time.monotonic() - started >= 0.9  # the backoff alone is 0.02 s
    finally:
        out.close()


def test_retry_after_in_seconds_or_as_a_date():
    assert _retry_after("7") == 7.0
    assert _retry_after(None) is None and _retry_after("soon") is None
    assert _retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past


def test_a_400_is_not_retried_and_the_next_event_still_goes(receiver):
    receiver.script.append((400, {}))
    out = hook(receiver.url)
    try:
        out.send_alert(alert("BAD"))
        out.send_alert(alert("GOOD"))
        assert wait_until(lambda: out.stats()["delivered"] == 1)
    finally:
        out.close()
    assert [b["event"]["alert"] for b in receiver.bodies()] == ["BAD", "GOOD"]
    stats = out.stats()
    assert stats["failed"] == 1 and stats["retries"] == 0 and stats["last_status"] == 200
    assert "HTTP 400" in stats["last_error"]


def test_a_redirect_is_not_followed(receiver):
    receiver.script.append((302, {"Location": "http://127.0.0.1:9/elsewhere"}))
    out = hook(receiver.url)
    try:
        out.send_alert(alert())
        assert wait_until(lambda: out.stats()["failed"] == 1)
    finally:
        out.close()
    assert len(receiver.requests) == 1


def test_an_event_is_given_up_after_max_attempts_and_counted(receiver, caplog):
    receiver.script.extend([(500, {})] * 10)
    out = hook(receiver.url, max_attempts=3)
    try:
        out.send_alert(alert())
        assert wait_until(lambda: out.stats()["failed"] == 1)
    finally:
        out.close()
    assert len(receiver.requests) == 3
    assert "not delivered" in caplog.text and "gave up after 3 attempts" in caplog.text


def test_an_unreachable_url_is_retried_then_given_up():
    out = hook("http://127.0.0.1:9/hook", max_attempts=2)  # port 9 (discard): refused
    try:
        out.send_alert(alert())
        assert wait_until(lambda: out.stats()["failed"] == 1)
    finally:
        out.close()
    assert out.stats()["attempts"] == 2 and out.stats()["delivered"] == 0


def test_events_are_delivered_in_order_across_retries(receiver):
    receiver.script.extend([(503, {}), (502, {})])
    out = hook(receiver.url)
    try:
        for i in range(5):
            out.send_alert(alert(f"A{i}"))
        assert wait_until(lambda: out.stats()["delivered"] == 5)
    finally:
        out.close()
    got = [b["event"]["alert"] for b in receiver.bodies()]
    assert got == ["A0", "A0", "A0", "A1", "A2", "A3", "A4"]


def test_the_rule_filters_by_nation_level_kind_and_event(receiver):
    out = hook(receiver.url, nations=["POL", "LTU"], min_level=2,
               kinds=["incursion", "predicted_entry"], events=["raised", "escalated",
                                                                "ended"])
    try:
        out.send_alert(alert("LOW", level=1))  # below min_level
        out.send_alert(alert("DEU", nation="DEU"))  # another warned nation
        out.send_alert(alert("KIND", kind="sensor_down"))  # kind not listed
        out.send_alert(alert("ACK", event="acknowledged"))  # change not listed
        out.send_alert(alert("LTU", nation="LTU", kind="predicted_entry"))
        out.send_alert(alert("OK", level=2))
        assert wait_until(lambda: out.stats()["delivered"] == 2)
        time.sleep(0.05)
    finally:
        out.close()
    assert [b["event"]["alert"] for b in receiver.bodies()] == ["LTU", "OK"]
    assert out.stats()["unmatched"] == 4


def test_an_alert_that_matched_is_followed_to_its_end(receiver):
    out = hook(receiver.url, min_level=3)
    try:
        out.send_alert(alert("A1", level=3))
        out.send_alert(alert("A1", event="deescalated", level=1))  # below, but followed
        out.send_alert(alert("A1", event="ended", level=0))
        out.send_alert(alert("A1", event="deescalated", level=1, time=T0 + 9))  # over
        out.send_alert(alert("A2", level=1))  # never matched
        out.send_alert(alert("A2", event="ended", level=0))
        assert wait_until(lambda: out.stats()["delivered"] == 3)
        time.sleep(0.05)
    finally:
        out.close()
    assert [(b["event"]["alert"], b["event"]["event"]) for b in receiver.bodies()] == [
        ("A1", "raised"), ("A1", "deescalated"), ("A1", "ended")]


def test_an_event_another_nation_keeps_to_itself_is_never_posted(receiver):
    out = hook(receiver.url, nation="POL")
    try:
        out.send_alert(alert("LTU-ONLY", releasability="LTU"))
        out.send_alert(alert("NOBODY", releasability="none"))
        out.send_alert(alert("POL-ONLY", releasability="POL"))
        assert wait_until(lambda: out.stats()["delivered"] == 1)
        time.sleep(0.05)
    finally:
        out.close()
    assert [b["event"]["alert"] for b in receiver.bodies()] == ["POL-ONLY"]
    assert out.stats()["withheld"] == 2


def test_settings_reject_unknown_keys_and_check_names_the_field(monkeypatch, tmp_path):
    table = {"name": "ops", "url": "https://hooks.example/x", "nation": "POL"}
    assert msgspec.convert(table, WebhookSettings).events[0] == "raised"
    with pytest.raises(msgspec.ValidationError, match="secret"):
        msgspec.convert({**table, "secret": "plain text"}, WebhookSettings)
    with pytest.raises(msgspec.ValidationError, match="min_level"):
        msgspec.convert({**table, "min_level": 7}, WebhookSettings)
    with pytest.raises(msgspec.ValidationError, match="events"):
        msgspec.convert({**table, "events": ["started"]}, WebhookSettings)
    base = msgspec.convert(table, WebhookSettings)
    cases = [
        ({"url": "ftp://hooks.example/x"}, "field url: scheme"),
        ({"url": "https:///x"}, "field url: no host"),
        ({"url": "https://u:p@hooks.example/x"}, "field url: no credentials"),
        ({"secret_env": "SKYWARDEN_NO_SUCH_VAR"}, "field secret_env"),
        ({"headers": {"X-A": "1\r\nX-B: 2"}}, "field headers"),
        ({"headers": {"X-Skywarden-Signature": "forged"}}, "field headers"),
        ({"ca_file": str(tmp_path / "none.pem")}, "field ca_file: no such file"),
        ({"events": []}, "field events"),
        ({"max_attempts": 0}, "field max_attempts"),
    ]
    for change, message in cases:
        with pytest.raises(ConfigError, match=message):
            msgspec.structs.replace(base, **change).check()
