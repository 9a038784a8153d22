"""The ``service`` fixture: a real Runtime (ManualClock, hand-built sensors) behind the
real app, served by uvicorn on a free local port in a thread (see api_harness)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from api_harness import SENSORS, T0, Service

from skywarden.api import create_app
from skywarden.api.service import ApiSettings
from skywarden.clock import ManualClock
from skywarden.live.runtime import Runtime
from skywarden.live.settings import RuntimeSettings
from skywarden.sensors import SensorRegistry


class _Server(uvicorn.Server):
    def install_signal_handlers(self) -> None:  # a thread cannot take signals
        pass


@pytest.fixture
def service(tmp_path: Path) -> Iterator[Service]:
    clock = ManualClock(T0)
    registry = SensorRegistry.from_dicts(SENSORS)
    runtime = Runtime(registry, RuntimeSettings(data_dir=tmp_path / "data"), clock=clock)
    web = tmp_path / "web"
    web.mkdir()
    (web / "index.html").write_text("<!doctype html><title>map</title><p>the web map</p>")
    (web / "map.js").write_text("export const track = { id: 'T1', lat: 52.1 };\n" * 200)
    settings = ApiSettings(web_dir=str(web), requests_per_s=1000.0,
                           requests_burst=1000.0)
    app = create_app(runtime, settings)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = _Server(uvicorn.Config(app, log_level="warning", ws="websockets-sansio",
                                    lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "server did not start"
        time.sleep(0.02)
    store = runtime.store
    svc = Service(runtime, clock, f"http://127.0.0.1:{port}", app)
    store.add_organisation("ops", "Operations centre", roles=["admin"], by="test")
    svc.tokens["admin"] = store.issue_token("ops", by="test").token
    for org, nation, role in (("pol-mod", "POL", "operator"), ("ltu-mod", "LTU", "operator"),
                              ("lva-mod", "LVA", "viewer"), ("press", None, "viewer")):
        store.add_organisation(org, org, nation=nation, roles=[role], by="test")
        svc.tokens[org] = store.issue_token(org, by="test").token
    store.add_organisation("pol-view", "pol-view", nation="POL", roles=["viewer"], by="test")
    svc.tokens["pol-view"] = store.issue_token("pol-view", by="test").token
    try:
        yield svc
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        runtime.close()
