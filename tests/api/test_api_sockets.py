"""The WebSockets over a real server: what each nation receives on the live stream, box
changes, refusals, and ingest over a socket."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from contextlib import ExitStack
from typing import Any

import msgspec
from api_harness import Service, adsb, sensor_alerts, two_tracks
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

WHO = ("pol-view", "ltu-mod", "lva-mod", "press")


def recv_all(ws: ClientConnection, quiet: float = 1.0, limit: float = 20.0,
             until: Callable[[list[Any]], bool] | None = None) -> list[Any]:
    """Messages until ``until(messages)`` holds, or (without ``until``) none comes for
    ``quiet`` seconds; at most ``limit`` seconds."""
    out: list[Any] = []
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if until is not None and until(out):
            break
        try:
            out.append(json.loads(ws.recv(timeout=quiet if until is None else 1.0)))
        except TimeoutError:
            if until is None:
                break
    return out


def releasabilities(msgs: list[Any]) -> list[str]:
    return sorted({r["releasability"] for m in msgs if m["type"] == "tracks"
                   for r in m["tracks"]})


def alert_nations(msgs: list[Any]) -> list[str]:
    return sorted({m["event"]["nation"] for m in msgs if m["type"] == "alert"})


def open_streams(service: Service, stack: ExitStack) -> dict[str, ClientConnection]:
    streams = {}
    for who in WHO:
        ws = stack.enter_context(connect(service.ws_url("/api/v1/stream", who),
                                         open_timeout=10))
        hello = json.loads(ws.recv(timeout=5))
        assert hello["type"] == "hello" and hello["organisation"] == who
        streams[who] = ws
    return streams


def test_each_nation_receives_only_its_tracks_and_alerts_on_the_stream(service: Service
                                                                       ) -> None:
    with ExitStack() as stack:
        streams = open_streams(service, stack)
        two_tracks(service)
        sensor_alerts(service, start=20)
        # Poland may see everything: read until it has; the others were filed with it.
        got = {"pol-view": recv_all(streams["pol-view"], until=lambda m: (
            releasabilities(m) == ["POL", "allies"] and alert_nations(m) == ["LTU", "POL"]))}
        got |= {who: recv_all(ws) for who, ws in streams.items() if who != "pol-view"}
    rels = {who: releasabilities(msgs) for who, msgs in got.items()}
    alerts = {who: alert_nations(msgs) for who, msgs in got.items()}
    assert rels == {"pol-view": ["POL", "allies"], "ltu-mod": ["allies"],
                    "lva-mod": ["allies"], "press": []}
    assert alerts == {"pol-view": ["LTU", "POL"], "ltu-mod": ["LTU"], "lva-mod": ["LTU"],
                      "press": []}
    assert all(m["type"] != "tracks" for m in got["press"])
    # every alert event releasable to Poland reached it, in order, none dropped
    events = [(m["event"]["alert"], m["event"]["event"]) for m in got["pol-view"]
              if m["type"] == "alert"]
    stored = [(e.alert, e.event) for e in service.runtime.store.alert_events()]
    assert events == stored


def test_a_client_changes_its_box_and_is_told_what_left_it(service: Service) -> None:
    two_tracks(service)
    with connect(service.ws_url("/api/v1/stream", "pol-view"), open_timeout=10) as ws:
        msgs = recv_all(ws, until=lambda m: len(m) >= 2)
        assert msgs[0]["type"] == "hello"
        first = [r for m in msgs if m["type"] == "tracks" for r in m["tracks"]]
        assert len({r["track"] for r in first}) == 2
        allied = next(r["track"] for r in first if r["releasability"] == "allies")
        ws.send(json.dumps({"bbox": [20, 51, 22, 53]}))
        msgs = recv_all(ws, until=lambda m: len(m) >= 1)
        assert msgs[-1]["type"] == "tracks" and msgs[-1]["ended"] == [allied]
        ws.send(json.dumps({"bbox": [20, 51]}))
        err = json.loads(ws.recv(timeout=5))
        assert err["type"] == "error" and err["field"] == "bbox"
        # still streaming: a new row inside the box arrives
        service.runtime.ingest(_batch(service, 16), "test")
        service.step(17)
        later = recv_all(ws, until=lambda m: any(x["type"] == "tracks" for x in m))
        rows = [r for m in later if m["type"] == "tracks" for r in m["tracks"]]
        assert rows and {r["releasability"] for r in rows} == {"POL"}


def _batch(service: Service, t: float) -> Any:
    from skywarden.records import DetectionBatch

    dets = [adsb("POL-ADSB", t, 52.3, 21.11, "48AE01"),
            adsb("LTU-ADSB", t, 54.5, 23.51, "4B1801")]
    return DetectionBatch.from_records(dets, service.runtime.registry.ids)


def test_a_stream_without_a_good_token_is_refused_readably(service: Service) -> None:
    url = service.ws_url("/api/v1/stream", None, "token=swt_000000000000_" + "x" * 43)
    with connect(url, open_timeout=10) as ws:
        err = json.loads(ws.recv(timeout=5))
        assert (err["type"], err["status"], err["reason"]) == ("error", 401, "bad_token")
        try:
            ws.recv(timeout=5)
        except ConnectionClosed as closed:
            assert closed.rcvd is not None and closed.rcvd.code == 4401
    with connect(service.ws_url("/api/v1/ingest", "pol-view"), open_timeout=10) as ws:
        err = json.loads(ws.recv(timeout=5))
        assert (err["status"], err["reason"]) == (403, "forbidden")


def test_ingest_over_a_socket_answers_each_batch(service: Service) -> None:
    good = msgspec.json.encode(adsb("POL-ADSB", 0, 52.3, 21.1, "48AE01"))
    with connect(service.ws_url("/api/v1/ingest", "pol-mod"), open_timeout=10) as ws:
        ws.send((good + b"\n" + good).decode())
        assert json.loads(ws.recv(timeout=5)) == {"accepted": 2}
        ws.send(b"[" + good + b"," + good.replace(b'"lat":52.3', b'"lat":"x"') + b"]")
        err = json.loads(ws.recv(timeout=5))
        assert (err["status"], err["index"], err["field"]) == (400, 1, "lat")
        ws.send(good)
        assert json.loads(ws.recv(timeout=5)) == {"accepted": 1}
    published = service.runtime.bus.counters().published
    assert sum(n for s, n in published.items() if s.startswith("det.")) == 2


def test_a_stream_knows_the_open_alerts_its_nation_was_listed(service: Service) -> None:
    """A client lists the open alerts over REST and then opens the stream: the stream
    counts those it may see as shown, so that if one narrows later (its track takes in
    data this nation may not see) the client is told to drop it (alert_withdrawn)."""
    sensor_alerts(service, start=20)
    visible = {"lva-mod": set(), "pol-view": set()}
    for who in visible:
        with service.client(who) as http:
            visible[who] = {a["alert"] for a in http.get("/api/v1/alerts").json()}
    assert visible["lva-mod"] and visible["pol-view"] > visible["lva-mod"]
    hub = service.app.state.service.hub
    for who in visible:
        with connect(service.ws_url("/api/v1/stream", who), open_timeout=10) as ws:
            hello = json.loads(ws.recv(timeout=5))
            deadline = time.monotonic() + 5
            box = None
            while box is None and time.monotonic() < deadline:
                box = next((b for b in list(hub.clients) if b.nation == hello["nation"]),
                           None)
                time.sleep(0.02)
            assert box is not None
            assert box.alerts_shown == visible[who]
