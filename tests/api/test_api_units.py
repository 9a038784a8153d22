"""Units of the API that need no server: batch parsing, limits, releasability, mailboxes,
the OpenAPI document."""

from __future__ import annotations

import asyncio

import msgspec
import pytest

from skywarden.api.auth import Principal, may_see
from skywarden.api.errors import ApiError
from skywarden.api.ingest import parse_detections
from skywarden.api.ingest_audit import merge
from skywarden.api.limits import Bucket, RateLimits
from skywarden.api.metrics import ApiMetrics
from skywarden.api.openapi import openapi
from skywarden.api.query import in_bbox, parse_bbox
from skywarden.api.stream import Hub, Mailbox
from skywarden.bus import LocalBus
from skywarden.clock import ManualClock
from skywarden.records import AlertEvent, TrackUpdate

GOOD = {"time": 1_700_000_000.0, "sensor": "POL-R1", "kind": "position", "lat": 52.0,
        "lon": 21.0}


def lines(*dets: dict) -> bytes:
    return b"\n".join(msgspec.json.encode(d) for d in dets) + b"\n"


def test_a_json_array_and_json_lines_give_the_same_detections() -> None:
    as_array = msgspec.json.encode([GOOD, {**GOOD, "lat": 52.5}])
    a, a_lines = parse_detections(as_array, 10)
    b, b_lines = parse_detections(lines(GOOD, {**GOOD, "lat": 52.5}), 10)
    assert a == b and len(a) == 2
    assert (a_lines, b_lines) == (False, True)


def test_a_bad_field_in_an_array_names_its_index_and_field() -> None:
    body = msgspec.json.encode([GOOD, GOOD, {**GOOD, "lat": 200.0}])
    with pytest.raises(ApiError) as err:
        parse_detections(body, 10)
    e = err.value
    assert (e.status, e.index, e.field, e.line, e.reason) == (400, 2, "lat", None, "bad_field")
    assert "<= 90" in e.error and "nothing of the batch" in e.error


def test_a_bad_line_names_its_line_counting_blank_lines() -> None:
    body = lines(GOOD) + b"\n" + lines({**GOOD, "time": "noon"})
    with pytest.raises(ApiError) as err:
        parse_detections(body, 10)
    assert (err.value.line, err.value.field, err.value.index) == (3, "time", None)


def test_a_line_that_is_not_json_is_bad_json() -> None:
    with pytest.raises(ApiError) as err:
        parse_detections(lines(GOOD) + b'{"time": 1,\n', 10)
    assert (err.value.line, err.value.reason) == (2, "bad_json")


def test_a_missing_field_and_a_kind_without_its_fields_are_named() -> None:
    no_sensor = {k: v for k, v in GOOD.items() if k != "sensor"}
    with pytest.raises(ApiError) as err:
        parse_detections(msgspec.json.encode([GOOD, no_sensor]), 10)
    assert (err.value.index, err.value.field) == (1, "sensor")
    polar = {**GOOD, "kind": "polar"}
    with pytest.raises(ApiError) as err:
        parse_detections(lines(GOOD, polar), 10)
    assert (err.value.line, err.value.field) == (2, "range")


def test_batches_over_the_count_limit_and_empty_ones_are_refused() -> None:
    with pytest.raises(ApiError) as err:
        parse_detections(lines(GOOD, GOOD, GOOD), 2)
    assert (err.value.status, err.value.reason) == (413, "too_many")
    for empty in (b"  \n", b"[]", b" [ ] "):
        with pytest.raises(ApiError) as err:
            parse_detections(empty, 2)
        assert (err.value.status, err.value.reason) == (400, "empty")


def test_a_bucket_refuses_past_its_burst_and_says_how_long_to_wait() -> None:
    b = Bucket(rate=10.0, burst=20.0, level=20.0, stamp=0.0)
    assert b.take(20, 0.0) == 0.0
    assert b.take(5, 0.0) == pytest.approx(0.5)
    assert b.take(5, 0.5) == 0.0


def test_rate_limits_answer_429_with_retry_after() -> None:
    t = [0.0]
    limits = RateLimits(requests_per_s=1.0, requests_burst=2.0, clock=lambda: t[0])
    limits.request("a")
    limits.request("a")
    with pytest.raises(ApiError) as err:
        limits.request("a")
    assert err.value.status == 429 and err.value.headers["Retry-After"] == "1"
    limits.request("b")  # per token
    t[0] = 1.0
    limits.request("a")


def test_releasability_rules() -> None:
    assert may_see("public", None) and may_see("public", "POL")
    assert may_see("allies", "LTU") and not may_see("allies", None)
    assert may_see("LTU,POL", "POL") and not may_see("LTU,POL", "LVA")
    assert not may_see("none", "POL")


def test_roles_are_ordered() -> None:
    op = Principal("pol", "POL", ("operator",), "abc")
    assert op.has("viewer") and op.has("operator") and not op.has("admin")
    assert op.who == "pol/abc"


def test_bbox_parsing_and_the_180th_meridian() -> None:
    assert parse_bbox("14,49,24.5,55") == (14.0, 49.0, 24.5, 55.0)
    for bad in ("1,2,3", "a,b,c,d", "0,60,10,50", "0,0,200,1"):
        with pytest.raises(ApiError) as err:
            parse_bbox(bad)
        assert err.value.field == "bbox"
    assert in_bbox(0.0, 179.5, (170.0, -10.0, -170.0, 10.0))
    assert not in_bbox(0.0, 0.0, (170.0, -10.0, -170.0, 10.0))


def row(track: str, lat: float, rel: str | None = "allies", status: str = "confirmed",
        t: float = 100.0) -> TrackUpdate:
    return TrackUpdate(time=t, track=track, lat=lat, lon=21.0, status=status,
                       releasability=rel)


def test_a_mailbox_keeps_the_newest_row_per_track_and_counts_merged_ticks() -> None:
    async def run() -> None:
        box = Mailbox("POL", None, 10)
        seen = lambda rel: may_see(rel, "POL")  # noqa: E731
        box.file_rows([row("T1", 52.0), row("T2", 52.1, "LTU")], 100.0, seen)
        box.file_rows([row("T1", 52.2, t=101.0)], 101.0, seen)
        assert box.dropped == 1
        msg = msgspec.json.decode(box.take_tracks(0.0))
        assert [r["track"] for r in msg["tracks"]] == ["T1"]
        assert msg["tracks"][0]["lat"] == 52.2 and msg["ended"] == []
        box.file_rows([row("T1", 52.2, status="deleted", t=102.0)], 102.0, seen)
        assert msgspec.json.decode(box.take_tracks(0.0))["ended"] == ["T1"]
        assert box.take_tracks(0.0) is None

    asyncio.run(run())


def test_a_mailbox_ends_tracks_that_leave_its_box() -> None:
    async def run() -> None:
        box = Mailbox(None, (20.0, 51.0, 22.0, 53.0), 10)
        seen = lambda rel: may_see(rel, None)  # noqa: E731
        box.file_rows([row("T1", 52.0, "public")], 100.0, seen)
        box.take_tracks(0.0)
        box.file_rows([row("T1", 54.0, "public", t=101.0)], 101.0, seen)
        assert msgspec.json.decode(box.take_tracks(0.0))["ended"] == ["T1"]

    asyncio.run(run())


def test_a_mailbox_too_far_behind_on_alerts_overflows_instead_of_dropping() -> None:
    async def run() -> None:
        box = Mailbox("POL", None, 2)
        for i in range(3):
            box.file_alert(b"%d" % i)
        assert box.overflowed and list(box.alerts) == [b"0", b"1", b"2"]

    asyncio.run(run())


def test_the_openapi_document_is_3_1_with_record_schemas_and_roles() -> None:
    spec = openapi()
    assert spec["openapi"] == "3.1.0"
    schemas = spec["components"]["schemas"]
    assert {"Detection", "TrackUpdate", "AlertEvent", "StoredAlert", "Error"} <= set(schemas)
    ack = spec["paths"]["/api/v1/alerts/{id}/ack"]["post"]
    assert ack["x-role"] == "operator" and "403" in ack["responses"]
    assert spec["paths"]["/api/v1/stream"]["get"]["x-websocket"] is True
    body = spec["paths"]["/api/v1/detections"]["post"]["requestBody"]["content"]
    assert body["application/json"]["schema"]["items"]["$ref"].endswith("/Detection")


def test_the_hub_merges_ticks_for_a_client_that_does_not_read_but_keeps_every_alert(
) -> None:
    async def run() -> None:
        bus = LocalBus()
        metrics = ApiMetrics()
        hub = Hub(bus, metrics, ManualClock(0.0))
        hub.start()
        box = Mailbox("POL", None, 100)
        other = Mailbox("LVA", None, 100)
        hub.clients |= {box, other}
        for k in range(50):
            bus.publish("tracks.POL", [row("T1", 52.0 + k * 0.001, "POL", t=100.0 + k)])
            if k % 10 == 0:
                bus.publish("alerts.POL", AlertEvent(
                    time=100.0 + k, alert=f"A{k}", event="raised", level=2, kind="zone",
                    nation="POL", releasability="POL"))
            await asyncio.sleep(0)
        for _ in range(100):
            await asyncio.sleep(0.01)
            if len(box.alerts) == 5 and box.tick == 149.0:
                break
        events = [msgspec.json.decode(m)["event"]["alert"] for m in box.alerts]
        assert events == ["A0", "A10", "A20", "A30", "A40"]
        msg = msgspec.json.decode(box.take_tracks(0.0))
        assert [r["time"] for r in msg["tracks"]] == [149.0]
        assert box.dropped == 49
        assert metrics.stream_dropped.labels("tracks")._value.get() == 49
        assert not other.alerts and other.take_tracks(0.0) is None  # Latvia sees none
        await hub.stop()
        bus.close()

    asyncio.run(run())


def test_the_package_exports_only_create_app() -> None:
    import skywarden.api

    assert skywarden.api.__all__ == ["create_app"]
    assert callable(skywarden.api.create_app)


def test_ingest_audit_entries_queued_together_are_summed() -> None:
    one = {"via": "ws", "accepted": 2, "sensors": {"A": 2}, "t0": 5.0, "t1": 6.0}
    two = {"via": "ws", "accepted": 3, "sensors": {"A": 1, "B": 2}, "t0": 4.0, "t1": 9.0}
    assert merge([one]) == {**one, "batches": 1}
    assert merge([one, two]) == {"via": "ws", "accepted": 5, "sensors": {"A": 3, "B": 2},
                                 "t0": 4.0, "t1": 9.0, "batches": 2}


def test_clients_of_one_group_share_one_encoding_and_a_merged_one_stays_whole() -> None:
    async def run() -> None:
        hub = Hub(None, ApiMetrics(), None)
        a, b = Mailbox("POL", None, 10), Mailbox("POL", None, 10)
        hub.clients |= {a, b}
        hub.file_tracks([row("T1", 52.0), row("T2", 52.1)])
        first_a, first_b = a.take_tracks(0.0), b.take_tracks(0.0)
        assert first_a == first_b
        assert [r["track"] for r in msgspec.json.decode(first_a)["tracks"]] == ["T1", "T2"]
        hub.file_tracks([row("T1", 52.2, t=101.0)])
        hub.file_tracks([row("T2", 52.3, status="deleted", t=102.0)])
        msg = msgspec.json.decode(a.take_tracks(0.0))
        assert ([r["lat"] for r in msg["tracks"]], msg["ended"], msg["time"]) == (
            [52.2], ["T2"], 102.0)

    asyncio.run(run())


def test_a_row_is_encoded_once_per_tick_for_every_group_and_client() -> None:
    async def run() -> None:
        hub = Hub(None, ApiMetrics(), None)
        pol, lva, boxed = (Mailbox("POL", None, 10), Mailbox("LVA", None, 10),
                           Mailbox("POL", (20.0, 51.0, 22.0, 53.0), 10))
        hub.clients |= {pol, lva, boxed}
        hub.file_tracks([row("T1", 52.0), row("T2", 52.1)])
        # three groups (nation, box), one encoding of each row: the same bytes objects
        assert pol.rows["T1"] is lva.rows["T1"] is boxed.rows["T1"]
        assert pol.rows["T2"] is lva.rows["T2"]

    asyncio.run(run())


def test_a_citizen_report_goes_to_a_channel_the_reporting_nation_can_see():
    from types import SimpleNamespace

    from skywarden.api.ingest import report_sensor
    from skywarden.sensors import Sensor

    def svc(*sensors: Sensor) -> SimpleNamespace:
        return SimpleNamespace(runtime=SimpleNamespace(registry=list(sensors)))

    dk = Sensor(id="DK-CIT", type="visual_report", owner="DNK", releasability="national")
    eu = Sensor(id="EU-CIT", type="visual_report", owner="DEU", releasability="allies")
    pl = Sensor(id="PL-CIT", type="visual_report", owner="POL", releasability="national")
    pol = Principal("pol-ops", "POL", ("viewer",), "t1")
    assert report_sensor(svc(dk, eu, pl), pol) == "PL-CIT"  # its own nation's first
    assert report_sensor(svc(dk, eu), pol) == "EU-CIT"  # not a channel hidden from it
    assert report_sensor(svc(dk), pol) == "DK-CIT"  # the only one there is
    with pytest.raises(ApiError) as err:
        report_sensor(svc(), pol)
    assert err.value.status == 503


def test_an_alert_that_stops_being_releasable_is_withdrawn_from_who_saw_it() -> None:
    hub = Hub(None, ApiMetrics(), ManualClock(0.0))
    pol, lva, ltu = (Mailbox(n, None, 100) for n in ("POL", "LVA", "LTU"))
    hub.clients |= {pol, lva, ltu}

    def ev(t: float, event: str, rel: str) -> AlertEvent:
        return AlertEvent(time=t, alert="A1", event=event, level=2, kind="zone",
                          nation="POL", releasability=rel)

    hub.file_alert(ev(1.0, "raised", "LVA,POL"))
    # Its track took in national-only Polish data: Latvia is told it is gone, no more.
    hub.file_alert(ev(2.0, "escalated", "POL"))
    hub.file_alert(ev(3.0, "ended", "POL"))
    got = {b.nation: [msgspec.json.decode(m) for m in b.alerts] for b in (pol, lva, ltu)}
    assert [m["event"]["event"] for m in got["POL"]] == ["raised", "escalated", "ended"]
    assert [m["type"] for m in got["LVA"]] == ["alert", "alert_withdrawn"]
    assert got["LVA"][1] == {"type": "alert_withdrawn", "alert": "A1", "time": 2.0}
    assert got["LTU"] == []  # never shown, never withdrawn
    assert not pol.alerts_shown and not lva.alerts_shown


def test_a_large_tick_is_sent_as_several_messages_of_one_time() -> None:
    from skywarden.api.stream import ROWS_PER_MESSAGE, Mailbox

    box = Mailbox("POL", None, 100)
    n = 2 * ROWS_PER_MESSAGE + 5
    rows = [msgspec.json.encode({"track": f"T{i}", "note": "a\nb"}) for i in range(n)]
    box.rows = {f"T{i}": r for i, r in enumerate(rows)}
    box.ended = {"T9999"}
    box.tick = 12.5
    parts = [msgspec.json.decode(line) for line in box.take_tracks(0.0).split(b"\n")]
    assert [len(p["tracks"]) for p in parts] == [ROWS_PER_MESSAGE, ROWS_PER_MESSAGE, 5]
    assert {p["time"] for p in parts} == {12.5}
    assert [p["ended"] for p in parts] == [[], [], ["T9999"]]  # ends after the rows
    assert parts[0]["tracks"][0]["note"] == "a\nb"  # a newline in a value stays escaped
