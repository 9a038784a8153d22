"""The web map in a real browser against a real `skywarden serve --demo`.

One service (a small demo scenario at 20x speed, a fresh data directory, a free port on
127.0.0.1) and one headless Debian chromium (driven by Playwright, never Playwright's own
browser download; scripts/browser.sh installs it) serve the whole module. Each test opens
its own page, signs in with a demo token and works the map as an operator would.

    SKYWARDEN_SCREENSHOTS=docs/img   also write the screenshots there (README pictures)
    SKYWARDEN_WEB_DEMO=poland-2025-09   another demo scenario (default airport-drones)
"""

from __future__ import annotations

import calendar
import json
import os
import re
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
SCENARIO = os.environ.get("SKYWARDEN_WEB_DEMO", "airport-drones")
START_TIMEOUT_S = 120.0

playwright_api = pytest.importorskip("playwright.sync_api")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Service:
    """A running `skywarden serve --demo`: its URL and demo tokens by (organisation, role)."""

    def __init__(self, url: str, tokens: dict[tuple[str, str], str], data: Path) -> None:
        self.url = url
        self.tokens = tokens
        self.data = data

    def token(self, organisation: str, role: str) -> str:
        return self.tokens[(organisation, role)]

    def get(self, path: str, token: str) -> object:
        r = httpx.get(self.url + path, headers={"Authorization": f"Bearer {token}"},
                      timeout=10)
        r.raise_for_status()
        return r.json()

    def request(self, method: str, path: str, token: str, body: object = None
                ) -> httpx.Response:
        return httpx.request(method, self.url + path, json=body, timeout=10,
                             headers={"Authorization": f"Bearer {token}"})

    def metric(self, name: str, **labels: str) -> float:
        """One sample of /metrics (0 when absent)."""
        want = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
        text = httpx.get(self.url + "/metrics", timeout=10).text
        for line in text.splitlines():
            m = re.match(r"^(\w+)(?:\{(.*)\})? (\S+)$", line)
            if m and m.group(1) == name and ",".join(sorted((m.group(2) or "").split(","))
                                                     ) == want:
                return float(m.group(3))
        return 0.0

    def audit(self, action: str) -> list[dict[str, object]]:
        """Audit entries of one action, read from the store's file (read-only)."""
        con = sqlite3.connect(f"file:{self.data / 'skywarden.db'}?mode=ro", uri=True,
                              timeout=10)
        try:
            rows = con.execute("SELECT actor, subject, details FROM audit WHERE action = ?",
                               (action,)).fetchall()
        finally:
            con.close()
        return [{"actor": a, "subject": s, "details": json.loads(d)} for a, s, d in rows]


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    data = tmp_path_factory.mktemp("serve")
    port = _free_port()
    cmd = [sys.executable, "-c", "import sys; from skywarden.cli import main; sys.exit(main())",
           "serve", "--demo", SCENARIO, "--speed", "20", "--data", str(data),
           "--port", str(port)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    lines: list[str] = []
    serving = threading.Event()

    def read() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            lines.append(line)
            if "serving on http://" in line:
                serving.set()

    threading.Thread(target=read, daemon=True).start()
    try:
        began = time.monotonic()
        while not serving.wait(0.5):
            if proc.poll() is not None or time.monotonic() - began > START_TIMEOUT_S:
                pytest.fail("skywarden serve did not start:\n" + "".join(lines[-30:]))
        url = f"http://127.0.0.1:{port}"
        while True:  # uvicorn binds just after the line is printed
            try:
                httpx.get(url + "/api/v1/borders.geojson", timeout=5).raise_for_status()
                break
            except httpx.HTTPError:
                if time.monotonic() - began > START_TIMEOUT_S:
                    raise
                time.sleep(0.2)
        tokens = {}
        for line in (data / "demo-tokens.txt").read_text().splitlines():
            if line.strip() and not line.startswith("#"):
                organisation, _nation, role, token = line.split()
                tokens[(organisation, role)] = token
        yield Service(url, tokens, data)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stderr is not None:
            proc.stderr.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/browser.sh (./run test does)")
    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


class MapPage:
    """One browser page on the map, with the page's errors collected."""

    def __init__(self, browser: object, service: Service) -> None:
        self.context = browser.new_context(viewport={"width": 1440, "height": 900})  # type: ignore[attr-defined]
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.goto(service.url + "/")

    def sign_in(self, token: str) -> None:
        self.page.fill("#signin-token", token)
        self.page.click("#signin-submit")
        self.page.wait_for_function("window.skywarden && window.skywarden.ready",
                                    timeout=30_000)

    def track_positions(self) -> dict[str, list[float]]:
        """Positions as the map holds them: the 'tracks' source's data, read from the map."""
        return self.page.evaluate("""async () => {
            const data = await window.skywarden.map.getSource('tracks').getData();
            return Object.fromEntries(data.features.map(f => [f.properties.id, f.geometry.coordinates]));
        }""")

    def wait_for_tracks(self, timeout_ms: float = 30_000) -> None:
        self.page.wait_for_function("""async () => {
            const data = await window.skywarden.map.getSource('tracks').getData();
            return data.features.length > 0;
        }""", timeout=timeout_ms, polling=250)

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def map_page(browser: object, service: Service) -> Iterator[MapPage]:
    """A fresh page (own storage), not signed in."""
    page = MapPage(browser, service)
    yield page
    errors = list(page.errors)
    page.close()
    assert errors == [], f"errors in the page: {errors}"


@pytest.fixture(scope="module")
def operator_map(browser: object, service: Service) -> Iterator[MapPage]:
    """One page signed in as an operator (pol-ops), shared by the tests that only work the
    map: loading the map costs seconds on a small machine."""
    page = MapPage(browser, service)
    page.sign_in(service.token("pol-ops", "operator"))
    yield page
    page.close()


@pytest.fixture
def operator_page(operator_map: MapPage) -> Iterator[MapPage]:
    seen = len(operator_map.errors)
    yield operator_map
    assert operator_map.errors[seen:] == [], f"errors in the page: {operator_map.errors[seen:]}"


@pytest.fixture(scope="module")
def viewer_map(browser: object, service: Service) -> Iterator[MapPage]:
    """One page signed in with the demo's viewer token (pol-ops, read only)."""
    page = MapPage(browser, service)
    page.sign_in(service.token("pol-ops", "viewer"))
    yield page
    page.close()


@pytest.fixture
def viewer_page(viewer_map: MapPage) -> Iterator[MapPage]:
    seen = len(viewer_map.errors)
    yield viewer_map
    assert viewer_map.errors[seen:] == [], f"errors in the page: {viewer_map.errors[seen:]}"


def test_sign_in_rejects_a_bad_token_keeps_a_good_one_and_signs_out(map_page, service):
    page = map_page.page
    page.wait_for_selector("#signin", state="visible")
    page.fill("#signin-token", "swt_000000000000_" + "x" * 43)
    page.click("#signin-submit")
    page.wait_for_selector("#signin-error:not([hidden])")
    assert "not valid" in page.text_content("#signin-error")

    token = service.token("pol-ops", "operator")
    map_page.sign_in(token)
    assert page.is_hidden("#signin")
    assert "pol-ops" in page.text_content("#who")
    assert page.evaluate("localStorage.getItem('skywarden.token')") == token

    page.reload()  # the stored token signs in again without asking
    page.wait_for_function("window.skywarden && window.skywarden.ready", timeout=30_000)
    assert page.is_hidden("#signin")

    page.click("#sign-out")
    page.wait_for_selector("#signin", state="visible")
    assert page.evaluate("localStorage.getItem('skywarden.token')") is None


def test_demo_tracks_appear_with_symbols_and_move(operator_page, service):
    page = operator_page.page
    # Every track drawn with a milsymbol image the map holds (one per identity and class).
    page.wait_for_function("""async () => {
        const map = window.skywarden.map;
        const data = await map.getSource('tracks').getData();
        return data.features.length > 0 && data.features.every(
            f => f.properties.icon.startsWith('sym-') && map.hasImage(f.properties.icon));
    }""", timeout=30_000, polling=250)
    # The land and the limits of the nations' airspace over the sea, both drawn
    drawn = page.evaluate("""async () => {
        const map = window.skywarden.map;
        const land = await map.getSource('borders').getData();
        const airspace = await map.getSource('airspace').getData();
        return [land.features.length, airspace.features.length,
                map.getLayer('airspace-limits') !== undefined];
    }""")
    assert drawn[0] > 30 and drawn[1] == drawn[0] and drawn[2]
    first = operator_page.track_positions()
    # Read the map's source again until a track seen in both reads has moved (a second of
    # real time is 20 s of scenario time at 20x).
    moved: list[str] = []
    deadline = time.monotonic() + 15
    while not moved and time.monotonic() < deadline:
        page.wait_for_timeout(1000)
        second = operator_page.track_positions()
        moved = [t for t in set(first) & set(second) if first[t] != second[t]]
        if not set(first) & set(second):
            first = second
    assert moved, f"no track moved between reads of the map's source: {first}"
    # The map shows the live picture the API serves (same track ids).
    api = service.get("/api/v1/tracks", service.token("pol-ops", "operator"))
    assert set(moved) & {row["track"] for row in api["tracks"]} or len(api["tracks"]) > 0
    counts = page.text_content("#counts")
    assert counts.endswith("tracks") and int(counts.split()[0]) > 0


def test_sensor_panel_lists_what_the_api_serves_down_first(operator_page, service):
    page = operator_page.page
    api = service.get("/api/v1/sensors", service.token("pol-ops", "operator"))
    assert api, "the demo has sensors"
    page.wait_for_function(f"document.querySelectorAll('#sensors li').length === {len(api)}",
                           timeout=20_000, polling=250)
    items = page.eval_on_selector_all(
        "#sensors li", "els => els.map(e => [e.dataset.sensor, e.className.split(' ')[1]])")
    assert {sid for sid, _ in items} == {s["id"] for s in api}
    rank = {"down": 0, "unknown": 1, "up": 2}
    order = [rank[status] for _, status in items]
    assert order == sorted(order)  # down first, then not heard yet, then up
    assert int(page.text_content("#sensor-down")) == order.count(0)


def test_alert_acknowledged_from_the_panel_shows_in_the_api(map_page, service):
    # The demo's alerts warn Denmark, Sweden, Germany: an administrator may acknowledge any.
    token = service.token("pol-ops", "admin")
    map_page.sign_in(token)
    page = map_page.page
    for _attempt in range(3):
        page.wait_for_selector("#alerts button[data-ack]", timeout=30_000)
        alert_id = page.locator("#alerts button[data-ack]").first.get_attribute("data-ack")
        page.locator(f'#alerts button[data-ack="{alert_id}"]').click()
        item = f'#alerts li[data-alert="{alert_id}"]'
        page.wait_for_function(
            """(sel) => { const li = document.querySelector(sel);
                return !li || li.classList.contains('acked') || /Failed/.test(li.textContent); }""",
            arg=item, timeout=15_000)
        # The store writer takes alert events and acknowledgements from the bus a moment
        # after they happen: wait for this alert's to be stored (or for the panel to drop it).
        deadline = time.monotonic() + 5.0
        while True:
            # open ones first: the recent list holds the 1,000 most recently changed, which
            # an alert raised long ago and acknowledged now may be too old for
            stored = (service.get("/api/v1/alerts", token)
                      + service.get("/api/v1/alerts?open=false", token))
            alert = next((a for a in stored if a["alert"] == alert_id), None)
            settled = alert is not None and (alert["acks"] or alert["ended"] is not None)
            if settled or time.monotonic() > deadline or not page.locator(item).count():
                break
            time.sleep(0.2)
        if alert is None:
            # No longer releasable to POL (a later event of it is not): answered 404 as an
            # unknown one, and the panel drops it.
            page.wait_for_selector(item, state="detached", timeout=5_000)
            continue
        if alert["acks"]:
            assert alert["acks"][-1]["by"].startswith("pol-ops")
            # Shown acknowledged, unless it ended (and left the panel) just after.
            assert page.is_visible(f"{item}.acked") or alert["ended"] is not None
            return
        assert alert["ended"] is not None, f"{alert_id}: not acknowledged and not ended"
    pytest.fail("every alert tried ended, or stopped being releasable, before its acknowledgement")


def test_restriction_drawn_in_the_editor_reaches_the_api_and_can_be_ended(operator_page, service):
    token = service.token("pol-ops", "operator")
    page = operator_page.page
    name = f"Test restriction {uuid.uuid4().hex[:6]}"
    page.click("#draw-start")
    page.fill("#restriction-form input[name=name]", name)
    page.fill("#restriction-form input[name=ceiling]", "2500")
    box = page.locator("#map").bounding_box()
    assert box is not None
    corners = [(0.40, 0.40), (0.60, 0.40), (0.60, 0.60), (0.40, 0.60)]
    for fx, fy in corners:
        page.mouse.click(box["x"] + fx * box["width"], box["y"] + fy * box["height"])
    assert "4 corners" in page.text_content("#draw-status")
    page.click("#restriction-save")
    page.wait_for_selector(f'#restrictions li:has-text("{name}")', timeout=15_000)
    assert page.is_hidden("#restriction-form")

    stored = service.get("/api/v1/restrictions", token)
    made = [r for r in stored if r["body"]["properties"]["name"] == name]
    assert len(made) == 1, stored
    props = made[0]["body"]["properties"]
    assert props["type"] == "restricted"
    assert props["ceiling"].startswith("2500")
    ring = made[0]["body"]["geometry"]["coordinates"][0]
    assert len(ring) >= 5 and ring[0] == ring[-1]
    zones = service.get("/api/v1/zones", token)
    assert any(f["properties"].get("name") == name for f in zones["features"])

    page.click(f'#restrictions li:has-text("{name}") button[data-end]')
    page.wait_for_selector(f'#restrictions li:has-text("{name}")', state="detached",
                           timeout=15_000)
    active = service.get("/api/v1/restrictions", token)
    assert all(r["zone"] != made[0]["zone"] for r in active)


def test_time_slider_replays_stored_history_then_returns_to_live(operator_page, service):
    operator_page.wait_for_tracks()
    page = operator_page.page
    page.select_option("#replay-span", "900")
    # 985/1000 of the last 15 minutes: about 13 s of scenario time ago.
    page.evaluate("""() => { const s = document.getElementById('replay-slider');
        s.value = 985; s.dispatchEvent(new Event('change')); }""")
    page.wait_for_function("document.getElementById('mode').textContent === 'REPLAY'")
    page.wait_for_function("/ tracks$/.test(document.getElementById('replay-time').textContent)",
                           timeout=15_000)
    replayed = page.evaluate("window.skywarden.replayed.rows.size")
    assert replayed > 0
    assert page.is_enabled("#replay-live")
    page.click("#replay-live")
    page.wait_for_function("document.getElementById('mode').textContent === 'LIVE'")
    assert page.evaluate("window.skywarden.layers.store === window.skywarden.live")


def test_citizen_report_clicked_on_the_map_reaches_the_tracker(viewer_page, service):
    # A viewer may report (docs/API.md): the citizen's role.
    token = service.token("pol-ops", "viewer")
    who = f"pol-ops/{service.get('/api/v1/me', token)['token']}"
    taken_before = service.metric("skywarden_api_detections_total", via="report")
    page = viewer_page.page
    clock0 = service.get("/api/v1/time", token)["now"]
    page.click("#report-start")
    assert page.is_visible("#report-hint") and page.is_hidden("#report-form")
    box = page.locator("#map").bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + 0.5 * box["width"], box["y"] + 0.45 * box["height"])
    page.wait_for_selector("#report-form", state="visible")
    point = page.evaluate("window.skywarden.report.point")
    # The time defaults to the service clock's now (the scenario's time in a demo).
    page.wait_for_function("document.querySelector('#report-form [name=time]').value !== ''")
    shown = page.input_value("#report-form [name=time]")
    clock1 = service.get("/api/v1/time", token)["now"]
    t = calendar.timegm(time.strptime(shown[:19], "%Y-%m-%dT%H:%M:%S"))
    assert clock0 - 1 <= t <= clock1 + 30, (shown, clock0, clock1)

    form = "#report-form"
    page.select_option(f"{form} [name=what]", "drone")
    page.check(f'{form} [name=heard][value="false"]')
    # What the map cannot read is refused in the form, next to its field...
    page.fill(f"{form} [name=direction]", "sideways")
    page.click("#report-send")
    page.wait_for_selector('[data-error-for="direction_deg"]:not([hidden])')
    # ...and what the service refuses is shown next to the field its answer names.
    page.fill(f"{form} [name=direction]", "NE")
    page.fill(f"{form} [name=count]", "5000")
    page.click("#report-send")
    page.wait_for_selector('[data-error-for="count"]:not([hidden])', timeout=10_000)
    assert "1000" in page.text_content('[data-error-for="count"]')
    assert page.is_hidden('[data-error-for="direction_deg"]')
    assert service.metric("skywarden_api_detections_total", via="report") == taken_before

    note = f"three lights, buzzing {uuid.uuid4().hex[:6]}"
    page.fill(f"{form} [name=count]", "3")
    page.fill(f"{form} [name=note]", note)
    clock2 = service.get("/api/v1/time", token)["now"]
    page.click("#report-send")
    page.wait_for_selector("#report-done", state="visible", timeout=10_000)
    clock3 = service.get("/api/v1/time", token)["now"]
    assert "Thank you" in page.text_content("#report-confirm")
    assert page.is_hidden("#report-form") and page.is_hidden("#report-hint")

    # Taken: counted by the API and by the runtime's ingest (its source names the
    # caller), and audited with the whole report.
    assert service.metric("skywarden_api_detections_total", via="report") == taken_before + 1
    assert service.metric("skywarden_ingest_detections_total", source=f"report:{who}") >= 1
    deadline = time.monotonic() + 10
    entries: list[dict[str, object]] = []
    while time.monotonic() < deadline:
        entries = [e for e in service.audit("ingest.batch")
                   if e["subject"] == "report" and e["actor"] == who
                   and (e["details"].get("report") or {}).get("note") == note]  # type: ignore[union-attr]
        if entries:
            break
        time.sleep(0.3)
    assert len(entries) == 1, service.audit("ingest.batch")[-3:]
    details = entries[0]["details"]
    report = details["report"]  # type: ignore[index]
    assert report["what"] == "drone" and report["heard"] is False
    assert report["direction_deg"] == 45 and report["count"] == 3
    assert (report["lon"], report["lat"]) == (point[0], point[1])
    # The time was left alone: "now" is the service clock's when the report was sent.
    assert clock2 - 1 <= report["time"] <= clock3 + 1, (report["time"], clock2, clock3)
    assert details["sensors"] == {"dk-citizen": 1}  # type: ignore[index]


def test_viewer_sees_no_acknowledge_or_restriction_editor_and_is_refused(viewer_page, service):
    viewer = service.token("pol-ops", "viewer")
    operator = service.token("pol-ops", "operator")
    page = viewer_page.page
    page.wait_for_selector("#alerts li.alert", timeout=30_000)
    assert page.locator("#alerts button[data-ack]").count() == 0
    assert page.is_hidden("#draw-start")
    assert page.is_visible("#report-start")
    # A restriction in force is listed for the viewer, without an End button.
    now = service.get("/api/v1/time", viewer)["now"]
    ring = [[12.0, 54.0], [12.1, 54.0], [12.1, 54.1], [12.0, 54.0]]
    feature = {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [ring]},
               "properties": {"name": f"Viewer test {uuid.uuid4().hex[:6]}",
                              "type": "restricted", "floor": 0, "ceiling": 1000,
                              "units": "m", "start": now - 60, "end": now + 3600,
                              "applies_to": "all"}}
    made = service.request("POST", "/api/v1/restrictions", operator, feature)
    assert made.status_code == 201, made.text
    zone = made.json()["zone"]
    try:
        page.evaluate("window.skywarden.editor.load()")
        page.wait_for_selector(f'#restrictions li[data-id="{zone}"]')
        assert page.locator("#restrictions button[data-end]").count() == 0
        # What the map does not offer, the API refuses: 403, the role too low.
        alert = page.locator("#alerts li.alert").first.get_attribute("data-alert")
        for method, path, body in [
            ("POST", f"/api/v1/alerts/{alert}/ack", {"note": ""}),
            ("POST", "/api/v1/restrictions", feature),
            ("DELETE", f"/api/v1/restrictions/{zone}", None),
        ]:
            r = service.request(method, path, viewer, body)
            assert r.status_code == 403, (method, path, r.status_code, r.text)
            assert r.json()["reason"] == "forbidden"
    finally:
        service.request("DELETE", f"/api/v1/restrictions/{zone}", operator)


def test_screenshot_of_the_demo_with_alerts(operator_page, service, tmp_path):
    operator_page.wait_for_tracks()
    page = operator_page.page
    out = os.environ.get("SKYWARDEN_SCREENSHOTS")
    if not out:
        page.wait_for_selector("#alerts li.alert", timeout=30_000)
    else:  # a picture for the docs: wait for a busy moment, then frame the alerted tracks
        page.wait_for_function(
            "document.querySelectorAll('#alerts li.level-3, #alerts li.level-4').length >= 2"
            " && window.skywarden.live.rows.size >= 8", timeout=420_000, polling=1000)
        page.evaluate("""() => {
            const { map, live, alerts } = window.skywarden;
            const rows = [...alerts.levelsByTrack().keys()].map(id => live.rows.get(id)).filter(Boolean);
            if (!rows.length) return;
            const lon = rows.map(r => r.lon), lat = rows.map(r => r.lat);
            map.fitBounds([[Math.min(...lon) - 1.5, Math.min(...lat) - 1],
                           [Math.max(...lon) + 1.5, Math.max(...lat) + 1]], {duration: 0, maxZoom: 7});
        }""")
    page.wait_for_timeout(1500)  # let the map draw the latest picture
    shot = tmp_path / "webmap.png"
    page.screenshot(path=str(shot))
    assert shot.stat().st_size > 50_000  # a drawn map, not a blank page
    if out:
        Path(out).mkdir(parents=True, exist_ok=True)
        (Path(out) / f"webmap-{SCENARIO}.png").write_bytes(shot.read_bytes())
        page.locator("#alerts li.alert").first.click()  # centre on its track, show its card
        page.wait_for_timeout(3000)
        page.screenshot(path=str(Path(out) / f"webmap-{SCENARIO}-track.png"))


def test_stream_carries_only_the_tracks_in_view(operator_page, service):
    # Last of the module: it leaves the shared page zoomed into an empty area.
    operator_page.wait_for_tracks()
    page = operator_page.page
    # Once the first tracks are framed, the stream's box follows the view.
    page.wait_for_function("window.skywarden.stream.bbox !== null", timeout=10_000)
    rows = service.get("/api/v1/tracks", service.token("pol-ops", "admin"))["tracks"]
    assert rows
    # Far into an empty area: three degrees south of every track.
    empty = [sum(r["lon"] for r in rows) / len(rows), min(r["lat"] for r in rows) - 3.0]
    page.evaluate("""(at) => { const s = window.skywarden.stream; window.__received = [];
        const on = s.handlers.onTracks;
        s.handlers.onTracks = (m) => {
            for (const r of m.tracks || []) window.__received.push([r.lon, r.lat]);
            on(m); };
        window.skywarden.map.jumpTo({center: at, zoom: 11}); }""", empty)
    page.wait_for_function(
        """([lon, lat]) => { const b = window.skywarden.stream.bbox;
            return b && b[0] < lon && lon < b[2] && b[1] < lat && lat < b[3] && b[2] - b[0] < 3; }""",
        arg=empty, timeout=15_000)
    bbox = page.evaluate("window.skywarden.stream.bbox")
    assert not [r for r in rows if bbox[0] <= r["lon"] <= bbox[2] and bbox[1] <= r["lat"] <= bbox[3]]
    # The service ends what left the box, the map's source follows...
    page.wait_for_function("""async () => window.skywarden.live.rows.size === 0 &&
        (await window.skywarden.map.getSource('tracks').getData()).features.length === 0""",
        timeout=10_000, polling=250)
    # ...and sends nothing more from outside it while tracks move on elsewhere (a
    # target that flies into the box meanwhile is sent, rightly: only rows outside count)
    page.evaluate("window.__received = []")
    page.wait_for_timeout(2000)
    received = page.evaluate("window.__received")
    assert not [(lon, lat) for lon, lat in received
                if not (bbox[0] <= lon <= bbox[2] and bbox[1] <= lat <= bbox[3])]
    assert service.get("/api/v1/tracks", service.token("pol-ops", "admin"))["tracks"]
