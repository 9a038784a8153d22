"""The service over real HTTP: who may do what, what each nation sees, ingest."""

from __future__ import annotations

import sqlite3

import msgspec
from api_harness import T0, Service, adsb, audited, sensor_alerts, two_tracks


def test_me_time_and_a_missing_or_bad_token(service: Service) -> None:
    with service.client("pol-mod") as c:
        me = c.get("/api/v1/me").json()
        assert (me["organisation"], me["nation"], me["roles"]) == ("pol-mod", "POL",
                                                                    ["operator"])
        assert c.get("/api/v1/time").json()["now"] == T0
    with service.client() as c:
        r = c.get("/api/v1/me")
        assert r.status_code == 401 and r.json()["reason"] == "no_token"
        r = c.get("/api/v1/me", headers={"Authorization": "Bearer swt_000000000000_" + "x" * 43})
        assert r.status_code == 401 and r.json()["reason"] == "bad_token"


def test_each_nation_sees_only_the_tracks_released_to_it(service: Service) -> None:
    two_tracks(service)
    seen = {}
    for who in ("pol-view", "ltu-mod", "lva-mod", "press"):
        with service.client(who) as c:
            rows = c.get("/api/v1/tracks").json()["tracks"]
            seen[who] = sorted(r["releasability"] for r in rows)
            geo = c.get("/api/v1/snapshot.geojson").json()
            assert len(geo["features"]) == len(rows)
    assert seen == {"pol-view": ["POL", "allies"], "ltu-mod": ["allies"],
                    "lva-mod": ["allies"], "press": []}
    with service.client("pol-view") as c:
        box = c.get("/api/v1/tracks", params={"bbox": "20,51,22,53"}).json()["tracks"]
        assert [r["releasability"] for r in box] == ["POL"]
        bad = c.get("/api/v1/tracks", params={"bbox": "20,51,22"})
        assert bad.status_code == 400 and bad.json()["field"] == "bbox"


def test_history_is_filtered_by_releasability_too(service: Service) -> None:
    two_tracks(service)
    with service.client("pol-view") as c:
        rows = c.get("/api/v1/history", params={"since": T0, "until": T0 + 60}).json()
    pol_track = next(r["track"] for r in rows if r["releasability"] == "POL")
    with service.client("ltu-mod") as c:
        rows = c.get("/api/v1/history", params={"since": T0, "until": T0 + 60}).json()
        assert rows and {r["releasability"] for r in rows} == {"allies"}
        r = c.get(f"/api/v1/tracks/{pol_track}/history")
        assert r.status_code == 404
        too_long = c.get("/api/v1/history", params={"since": T0, "until": T0 + 90000})
        assert too_long.status_code == 400 and too_long.json()["reason"] == "too_large"
    with service.client("pol-view") as c:
        own = c.get(f"/api/v1/tracks/{pol_track}/history").json()
        assert len(own) >= 2 and {r["track"] for r in own} == {pol_track}


def test_each_nation_sees_only_the_alerts_released_to_it(service: Service) -> None:
    sensor_alerts(service)
    seen = {}
    for who in ("pol-view", "ltu-mod", "lva-mod", "press"):
        with service.client(who) as c:
            seen[who] = sorted(a["nation"] for a in c.get("/api/v1/alerts").json())
            every = c.get("/api/v1/alerts", params={"open": "false"}).json()
            assert sorted(a["nation"] for a in every) == seen[who]
            only = c.get("/api/v1/alerts", params={"nation": "LTU"}).json()
            assert {a["nation"] for a in only} <= {"LTU"}
    assert seen == {"pol-view": ["LTU", "POL"], "ltu-mod": ["LTU"], "lva-mod": ["LTU"],
                    "press": []}


def test_a_viewer_cannot_acknowledge_an_operator_can_and_it_is_audited(service: Service
                                                                       ) -> None:
    sensor_alerts(service)
    with service.client("pol-view") as c:
        pol = next(a for a in c.get("/api/v1/alerts").json() if a["nation"] == "POL")
        r = c.post(f"/api/v1/alerts/{pol['alert']}/ack", json={"note": "seen"})
        assert r.status_code == 403 and r.json()["reason"] == "forbidden"
    with service.client("ltu-mod") as c:  # cannot see it: not found, not forbidden
        assert c.post(f"/api/v1/alerts/{pol['alert']}/ack", json={}).status_code == 404
        ltu = next(a for a in c.get("/api/v1/alerts").json() if a["nation"] == "LTU")
    with service.client("pol-mod") as c:  # sees the Lithuanian alert, does not act for it
        assert c.post(f"/api/v1/alerts/{ltu['alert']}/ack", json={}).status_code == 403
        r = c.post(f"/api/v1/alerts/{pol['alert']}/ack", json={"note": "radar crew called"})
        assert r.status_code == 200, r.text
        assert r.json()["acks"][-1]["note"] == "radar crew called"
        bad = c.post(f"/api/v1/alerts/{pol['alert']}/ack", json={"note": 5})
        assert bad.status_code == 400 and bad.json()["field"] == "note"
        assert c.post("/api/v1/alerts/nope/ack", json={}).status_code == 404
    token_id = service.tokens["pol-mod"].split("_")[1]
    acks = [e for e in service.runtime.store.audit_entries() if e.action == "alert.acknowledged"]
    assert [e.actor for e in acks] == [f"pol-mod/{token_id}"]


def test_tokens_are_stored_hashed_and_admin_endpoints_are_audited(service: Service) -> None:
    with service.client("pol-mod") as c:
        r = c.post("/api/v1/organisations", json={"id": "x", "name": "x"})
        assert r.status_code == 403
    with service.client("admin") as c:
        r = c.post("/api/v1/organisations",
                   json={"id": "est-mod", "name": "Estonia", "nation": "EST",
                         "roles": ["viewer"]})
        assert r.status_code == 201, r.text
        bad = c.post("/api/v1/organisations", json={"id": "y", "name": "y", "nation": "ee"})
        assert bad.status_code == 400 and bad.json()["field"] == "nation"
        issued = c.post("/api/v1/organisations/est-mod/tokens", json={}).json()
        token = issued["token"]
        assert c.post("/api/v1/organisations/nope/tokens", json={}).status_code == 404
    with service.client() as c:
        me = c.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
        assert me.json()["nation"] == "EST"
    con = sqlite3.connect(service.runtime.store.path)
    stored = [r[0] for r in con.execute("SELECT hash FROM tokens")]
    con.close()
    secrets = [t.split("_", 2)[2] for t in [*service.tokens.values(), token]]
    assert all(h.startswith("scrypt$") for h in stored)
    assert not any(s in h for s in secrets for h in stored)
    with service.client("admin") as c:
        assert c.delete(f"/api/v1/tokens/{issued['id']}").status_code == 200
        assert c.delete(f"/api/v1/tokens/{issued['id']}").status_code == 404
    with service.client() as c:  # revoked: refused at once, not after the cache time
        r = c.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 401
    admin_id = service.tokens["admin"].split("_")[1]
    actions = {(e.action, e.actor) for e in service.runtime.store.audit_entries()}
    assert {("organisation.added", f"ops/{admin_id}"), ("token.issued", f"ops/{admin_id}"),
            ("token.revoked", f"ops/{admin_id}")} <= actions


def test_a_bad_batch_is_refused_whole_with_its_line_and_field(service: Service) -> None:
    good = msgspec.json.encode(adsb("POL-ADSB", 0, 52.3, 21.1, "48AE01"))
    bad = good.replace(b'"lat":52.3', b'"lat":152.3')
    body = b"\n".join([good, good, bad, good]) + b"\n"
    with service.client("pol-mod") as c:
        r = c.post("/api/v1/detections", content=body,
                   headers={"Content-Type": "application/x-ndjson"})
        assert r.status_code == 400
        err = r.json()
        assert (err["line"], err["field"], err["reason"]) == (3, "lat", "bad_field")
        assert "nothing of the batch" in err["error"]
        r = c.post("/api/v1/detections", content=b"[" + b",".join([good, bad]) + b"]",
                   headers={"Content-Type": "application/json"})
        assert (r.status_code, r.json()["index"], r.json()["field"]) == (400, 1, "lat")
        # another nation's sensor: refused, named
        ltu = msgspec.json.encode(adsb("LTU-ADSB", 0, 54.5, 23.5, "4B1801"))
        r = c.post("/api/v1/detections", content=good + b"\n" + ltu)
        assert (r.status_code, r.json()["line"], r.json()["reason"]) == (403, 2, "not_owner")
        r = c.post("/api/v1/detections", content=good.replace(b"POL-ADSB", b"XX"))
        assert (r.status_code, r.json()["reason"]) == (400, "unknown_sensor")
    with service.client("pol-view") as c:
        assert c.post("/api/v1/detections", content=good).status_code == 403
    assert service.runtime.bus.counters().published.get("det.N52E021", 0) == 0
    assert not [e for e in service.runtime.store.audit_entries() if e.action == "ingest.batch"]
    with service.client() as c:
        text = c.get("/metrics").text
    assert 'skywarden_api_rejects_total{reason="bad_field"} 2.0' in text
    assert 'skywarden_api_rejects_total{reason="not_owner"} 1.0' in text


def test_a_good_batch_is_taken_tracked_and_audited(service: Service) -> None:
    with service.client("pol-mod") as c:
        for k in range(3):
            det = adsb("POL-ADSB", 4 * k, 52.3, 21.1 + 0.002 * k, "48AE01")
            r = c.post("/api/v1/detections", content=msgspec.json.encode([det]))
            assert r.status_code == 202 and r.json() == {"accepted": 1}
            service.step(4 * k + 1)
        rows = c.get("/api/v1/tracks").json()["tracks"]
    assert [r["ids"] for r in rows] == [["48AE01"]]
    token_id = service.tokens["pol-mod"].split("_")[1]
    batches = audited(service, "ingest.batch", 3)
    assert sum(e.details["accepted"] for e in batches) == 3
    assert sum(e.details["batches"] for e in batches) == 3
    assert {e.actor for e in batches} == {f"pol-mod/{token_id}"}
    assert batches[0].subject == "http" and batches[0].details["sensors"] == {"POL-ADSB": 1}


def test_limits_body_size_and_rate(service: Service) -> None:
    limits = service.app.state.service.limits
    limits.detections_per_s, limits.detections_burst = 10.0, 20.0
    det = adsb("POL-ADSB", 0, 52.3, 21.1, "48AE01")
    with service.client("pol-mod") as c:
        r = c.post("/api/v1/detections", content=b"[" + b" " * (6 * 1024 * 1024) + b"]")
        assert r.status_code == 413 and r.json()["reason"] == "too_large"
        assert c.post("/api/v1/detections", content=msgspec.json.encode([det] * 15)
                      ).status_code == 202
        r = c.post("/api/v1/detections", content=msgspec.json.encode([det] * 15))
        assert r.status_code == 429 and r.json()["reason"] == "rate_limited"
        assert int(r.headers["Retry-After"]) >= 1
    with service.client() as c:
        text = c.get("/metrics").text
    assert 'skywarden_api_rejects_total{reason="rate_limited"} 1.0' in text
    assert 'skywarden_api_rejects_total{reason="too_large"} 1.0' in text
    assert 'skywarden_http_requests_total{method="POST",route="/api/v1/detections",' \
        'status="429"} 1.0' in text
    assert "skywarden_live_tracks" in text or "skywarden_" in text


def test_a_citizen_report_becomes_a_visual_report_detection(service: Service) -> None:
    with service.client("pol-view") as c:
        r = c.post("/api/v1/reports", json={"time": T0 - 30, "lat": 52.1, "lon": 21.3,
                                            "what": "drone", "heard": True, "count": 2})
        assert r.status_code == 202 and r.json()["sensor"] == "POL-CIT"
        bad = c.post("/api/v1/reports", json={"time": T0, "lat": 52.1, "lon": 221.3})
        assert bad.status_code == 400 and bad.json()["field"] == "lon"
        bad = c.post("/api/v1/reports", json={"time": T0, "lat": 52.1, "lon": 21.0,
                                              "what": "ufo"})
        assert bad.status_code == 400 and bad.json()["field"] == "what"
    published = service.runtime.bus.counters().published
    assert sum(n for s, n in published.items() if s.startswith("det.")) == 1
    service.step(1.0)
    seen = {s["id"]: s for s in service.runtime.sensors(all_sensors=True)}
    assert seen["POL-CIT"]["last_seen"] == T0 - 30
    entry = audited(service, "ingest.batch")[-1]
    assert entry.subject == "report" and entry.details["report"]["count"] == 2


def test_methods_other_paths_and_sockets_get_api_answers(service: Service) -> None:
    """An integrator probing the API gets JSON answers from it, never the web map's
    static files: OPTIONS lists a path's methods, another method is a 405 that lists
    them, an unknown /api/ path is a JSON 404, a socket asked over plain HTTP says 426,
    and an empty JSON array is refused like an empty body."""
    with service.client("pol-mod") as c:
        r = c.options("/api/v1/detections")
        assert (r.status_code, r.headers["allow"]) == (204, "OPTIONS, POST")
        r = c.options("/api/v1/restrictions")
        assert r.headers["allow"] == "GET, HEAD, OPTIONS, POST"
        r = c.delete("/api/v1/detections")
        assert (r.status_code, r.headers["allow"]) == (405, "OPTIONS, POST")
        assert r.json()["reason"] == "method_not_allowed" and "POST" in r.json()["error"]
        r = c.get("/api/v1/alerts/A1/ack")
        assert r.status_code == 405 and r.headers["allow"] == "OPTIONS, POST"
        r = c.get("/api/v1/no-such-thing")
        assert r.status_code == 404 and r.json()["reason"] == "no_route"
        r = c.get("/api/v1/stream")
        assert (r.status_code, r.headers["upgrade"]) == (426, "websocket")
        assert r.json()["reason"] == "upgrade_required"
        r = c.post("/api/v1/detections", content=b"[]",
                   headers={"Content-Type": "application/json"})
        assert (r.status_code, r.json()["reason"]) == (400, "empty")
        # the web map is still served at the root
        assert c.get("/").status_code == 200
        spec = c.get("/openapi.json").json()
        metrics = c.get("/metrics").text
        assert 'skywarden_api_rejects_total{reason="method_not_allowed"} 2.0' in metrics
        assert 'skywarden_api_rejects_total{reason="upgrade_required"} 1.0' in metrics
        cap = spec["paths"]["/api/v1/cap/{nation}.xml"]["get"]
        assert cap["parameters"][0]["schema"]["pattern"] == "^[A-Z]{3}$"
        assert "404" in cap["responses"]


def test_a_query_parameter_the_endpoint_does_not_take_is_named_not_ignored(
        service: Service) -> None:
    with service.client("pol-view") as c:
        r = c.get("/api/v1/alerts", params={"limit": "10"})
        body = r.json()
        assert r.status_code == 400 and body["reason"] == "bad_param"
        assert body["field"] == "limit" and "it takes nation, open" in body["error"]
        r = c.get("/api/v1/me", params={"verbose": "1"})
        assert r.status_code == 400 and "it takes none" in r.json()["error"]
        # the declared ones still work
        assert c.get("/api/v1/alerts", params={"open": "false", "nation": "POL"}
                     ).status_code == 200
    with service.client() as c:  # no token: still 401 first, whatever the query
        assert c.get("/api/v1/alerts", params={"limit": "10"}).status_code == 401
