"""Restrictions, zones, sensors, CAP, borders, and the service's own pages over HTTP."""

from __future__ import annotations

from api_harness import T0, Service
from prometheus_client.parser import text_string_to_metric_families

SQUARE = [[21.0, 52.0], [21.2, 52.0], [21.2, 52.1], [21.0, 52.1], [21.0, 52.0]]


def restriction(**props: object) -> dict:
    base = {"name": "Drone exclusion", "type": "restricted", "floor": 0, "ceiling": 95,
            "units": "FL", "start": T0, "end": T0 + 3600}
    return {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [SQUARE]},
            "properties": {**base, **props}}


def test_operators_make_and_end_restrictions_and_each_is_audited(service: Service) -> None:
    with service.client("pol-view") as c:
        assert c.post("/api/v1/restrictions", json=restriction()).status_code == 403
    with service.client("pol-mod") as c:
        r = c.post("/api/v1/restrictions", json=restriction())
        assert r.status_code == 201, r.text
        made = r.json()
        zone = made["zone"]
        token_id = service.tokens["pol-mod"].split("_")[1]
        assert made["created_by"] == f"pol-mod/{token_id}"
        bad = c.post("/api/v1/restrictions", json=restriction(type="airport"))
        assert bad.status_code == 400 and bad.json()["field"] == "properties.type"
        bad = c.post("/api/v1/restrictions", json=restriction(units="yards"))
        assert bad.status_code == 400 and bad.json()["field"].startswith("properties.")
        assert c.post("/api/v1/restrictions", content=b"{").json()["reason"] == "bad_json"
        zones = c.get("/api/v1/zones").json()
        ours = [f for f in zones["features"] if f["properties"].get("id") == zone]
        assert ours and ours[0]["properties"]["restriction"] is True
        assert len(zones["features"]) > 1  # the shipped zones too
        assert [x["zone"] for x in c.get("/api/v1/restrictions").json()] == [zone]
        assert c.delete(f"/api/v1/restrictions/{zone}").status_code == 200
        assert c.delete(f"/api/v1/restrictions/{zone}").json()["reason"] == "not_found"
        assert c.get("/api/v1/restrictions").json() == []
        ended = c.get("/api/v1/restrictions", params={"all": "true"}).json()
        assert ended[0]["ended_by"] == f"pol-mod/{token_id}"
    actions = [(e.action, e.actor) for e in service.runtime.store.audit_entries()
               if e.action.startswith("restriction.")]
    assert actions == [("restriction.made", f"pol-mod/{token_id}"),
                       ("restriction.ended", f"pol-mod/{token_id}")]


def test_sensors_are_listed_only_where_releasable(service: Service) -> None:
    seen = {}
    for who in ("pol-view", "ltu-mod", "press"):
        with service.client(who) as c:
            seen[who] = sorted(s["id"] for s in c.get("/api/v1/sensors").json())
    assert seen["pol-view"] == ["LTU-ADSB", "LTU-R1", "POL-ADSB", "POL-CIT", "POL-R1"]
    assert seen["ltu-mod"] == ["LTU-ADSB", "LTU-R1", "POL-CIT"]
    assert seen["press"] == ["POL-CIT"]


def test_public_feeds_need_no_token(service: Service) -> None:
    with service.client() as c:
        cap = c.get("/api/v1/cap/POL.xml")
        assert cap.status_code == 200
        assert cap.headers["content-type"].startswith("application/atom+xml")
        assert b"<feed" in cap.content
        assert c.get("/api/v1/cap/pol.xml").status_code == 404
        borders = c.get("/api/v1/borders.geojson")
        assert borders.status_code == 200 and borders.json()["type"] == "FeatureCollection"
        airspace = c.get("/api/v1/airspace.geojson")
        assert airspace.status_code == 200
        land_of = {f["properties"]["iso_a3"]: f for f in borders.json()["features"]}
        sea = {f["properties"]["iso_a3"]: f["properties"]["territorial_sea_km2"]
               for f in airspace.json()["features"]}
        assert sea.keys() == land_of.keys()  # the same nations, with their seas
        assert sea["EST"] > 10_000 and sea["BLR"] == 0
        # gzipped for clients that take it (this one asks for it), plain for others
        assert borders.headers["content-encoding"] == "gzip"
        assert "Accept-Encoding" in borders.headers["vary"]
        plain = c.get("/api/v1/airspace.geojson", headers={"Accept-Encoding": "identity"})
        assert "content-encoding" not in plain.headers
        assert plain.json() == airspace.json()
        assert len(plain.content) > 2.5 * int(airspace.headers["content-length"])
        assert c.get("/api/v1/zones").status_code == 401


def test_spec_docs_metrics_and_the_web_map_are_served(service: Service) -> None:
    with service.client() as c:
        spec = c.get("/openapi.json").json()
        assert spec["openapi"] == "3.1.0" and "/api/v1/detections" in spec["paths"]
        docs = c.get("/docs")
        assert docs.status_code == 200 and "/openapi.json" in docs.text
        assert "cdn" not in docs.text.lower() and "<script src" not in docs.text
        assert "the web map" in c.get("/").text
        script = c.get("/map.js")  # the map's files: gzipped for clients that take them
        assert script.headers["content-encoding"] == "gzip"
        assert int(script.headers["content-length"]) < len(script.content) / 2
        plain = c.get("/map.js", headers={"Accept-Encoding": "identity"})
        assert "content-encoding" not in plain.headers and plain.text == script.text
        c.get("/api/v1/nothing-here")
        metrics = c.get("/metrics").text
    assert 'route="/openapi.json"' in metrics
    assert 'skywarden_api_rejects_total{reason="no_route"} 1.0' in metrics
    assert "skywarden_ws_clients" in metrics
    assert "skywarden_http_request_seconds_bucket" in metrics
    assert "skywarden_bus_dropped_messages" in metrics  # the runtime's registry too
    names = [f.name for f in text_string_to_metric_families(metrics)]
    assert len(names) == len(set(names)), "a metric family is written twice"
