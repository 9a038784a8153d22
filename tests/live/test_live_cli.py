"""The service's commands: serve (started and stopped for real), org, token."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx

from skywarden.cli import main
from skywarden.live.organisations import demo_tokens
from skywarden.store import SqliteStore

from .scene import LT_RADAR, PL_RADAR, sensors


def test_org_add_and_token_issue_and_revoke(tmp_path, capsys):
    data = tmp_path / "d"
    assert main(["org", "add", "ltu-ops", "--data", str(data), "--name", "Lithuania ops",
                 "--nation", "LTU", "--role", "operator"]) == 0
    assert "organisation ltu-ops (Lithuania ops), nation LTU, roles operator" in \
        capsys.readouterr().out
    assert main(["token", "issue", "--data", str(data), "--org", "ltu-ops"]) == 0
    token = capsys.readouterr().out.strip()
    # a new organisation made on the way, with its nation
    assert main(["token", "issue", "--data", str(data), "--org", "pol-ops", "--nation", "POL",
                 "--role", "viewer", "--expires-days", "30"]) == 0
    out = capsys.readouterr()
    viewer = out.out.strip()
    assert "shown once" in out.err
    with SqliteStore(data / "skywarden.db") as store:
        grant = store.check_token(token)
        assert (grant.organisation, grant.nation, grant.roles) == ("ltu-ops", "LTU",
                                                                   ["operator"])
        grant = store.check_token(viewer)
        assert (grant.nation, grant.roles) == ("POL", ["viewer"]) and grant.expires
        actions = [e.action for e in store.audit_entries()]
    assert actions.count("token.issued") == 2 and "organisation.added" in actions
    token_id = token.split("_")[1]
    assert main(["token", "revoke", token_id, "--data", str(data)]) == 0
    with SqliteStore(data / "skywarden.db") as store:
        assert store.check_token(token) is None
    # errors say what and why, exit status 1
    assert main(["token", "revoke", token_id, "--data", str(data)]) == 1
    assert "unknown or already revoked" in capsys.readouterr().err
    assert main(["token", "issue", "--data", str(data), "--org", "pol-ops",
                 "--nation", "LTU"]) == 1
    assert "exists with nation POL, not LTU" in capsys.readouterr().err
    assert main(["org", "add", "x", "--data", str(data), "--name", "X",
                 "--role", "king"]) == 1
    assert "each is one of viewer, operator, admin" in capsys.readouterr().err


def test_serve_needs_a_registry_or_the_demo(tmp_path, capsys):
    assert main(["serve", "--data", str(tmp_path / "d")]) == 1
    assert "--sensors sensors.toml" in capsys.readouterr().err


def test_serve_names_a_data_directory_that_is_a_file_before_anything_starts(tmp_path,
                                                                           capsys):
    data = tmp_path / "data"
    data.write_text("not a folder")
    assert main(["serve", "--demo", "--data", str(data)]) == 1
    assert f"--data {data}: a file, not a folder" in capsys.readouterr().err
    assert data.read_text() == "not a folder"


def test_demo_tokens_are_made_once_and_readable_by_the_owner_only(tmp_path):
    with SqliteStore(tmp_path / "skywarden.db") as store:
        path, tokens, made = demo_tokens(store, tmp_path)
        assert made and stat.S_IMODE(path.stat().st_mode) == 0o600
        assert {t.nation for t in tokens if t.role == "operator"} == {"POL", "LTU", "LVA",
                                                                      "DEU"}
        assert [t.role for t in tokens].count("viewer") == 1
        viewer = next(t for t in tokens if t.role == "viewer")
        assert store.check_token(viewer.token).roles == ["viewer"]
        again, same, made_again = demo_tokens(store, tmp_path)
        assert not made_again and same == tokens
    # a fresh store on the same data directory: the file's tokens cannot sign in there,
    # so new ones are made (and written) rather than handed out
    (tmp_path / "skywarden.db").unlink()
    with SqliteStore(tmp_path / "skywarden.db") as store:
        _, fresh, made = demo_tokens(store, tmp_path)
        assert made and {t.token for t in fresh}.isdisjoint({t.token for t in tokens})
        assert all(store.check_token(t.token) is not None for t in fresh)
        assert demo_tokens(store, tmp_path)[1] == fresh


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def skywarden_process(*args: str) -> Iterator[subprocess.Popen]:
    """``skywarden ARGS`` in a process of its own (output in its stdout pipe); killed on
    the way out if the test did not stop it (:func:`stop`)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "skywarden.cli", *args], stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()  # and close its pipe


def stop(proc: subprocess.Popen, timeout: float = 20.0) -> str:
    """SIGTERM, as a service manager stops the service; its whole output."""
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=timeout)
    return out


def test_serve_runs_and_stops_cleanly_on_sigterm(tmp_path):
    data = tmp_path / "d"
    registry = tmp_path / "sensors.toml"
    sensors(PL_RADAR, LT_RADAR).dump(registry)
    port = free_port()
    with skywarden_process("serve", "--data", str(data), "--sensors", str(registry), "--port",
                           str(port)) as proc:
        text = ""
        end = time.monotonic() + 30
        while time.monotonic() < end:
            try:
                text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=1.0).text
                break
            except httpx.TransportError:
                time.sleep(0.2)
        assert "skywarden_live_tracks" in text
        out = stop(proc)
    assert proc.returncode == 0, out
    assert "stopped; the store is closed" in out
    with SqliteStore(data / "skywarden.db") as store:
        actions = [e.action for e in store.audit_entries()]
    assert actions[-1] == "service.stopped" and "service.started" in actions


def test_serve_speaks_https_with_a_certificate_and_names_a_bad_one(tmp_path, capsys):
    import pytest

    trustme = pytest.importorskip("trustme")  # dev dependency: a test CA and certificates
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    cert.cert_chain_pems[0].write_to_path(str(tmp_path / "cert.pem"))
    cert.private_key_pem.write_to_path(str(tmp_path / "key.pem"))
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    registry = tmp_path / "sensors.toml"
    sensors(PL_RADAR, LT_RADAR).dump(registry)
    base = ["serve", "--data", str(tmp_path / "d"), "--sensors", str(registry)]
    # a half pair, a missing file, a key that is no key: named, exit 1, nothing started
    assert main([*base, "--tls-cert", str(tmp_path / "cert.pem")]) == 1
    assert "--tls-cert and --tls-key come together" in capsys.readouterr().err
    assert main([*base, "--tls-cert", str(tmp_path / "cert.pem"), "--tls-key",
                 str(tmp_path / "nope.pem")]) == 1
    assert "nope.pem: no such file" in capsys.readouterr().err
    assert main([*base, "--tls-cert", str(tmp_path / "cert.pem"), "--tls-key",
                 str(tmp_path / "ca.pem")]) == 1
    assert "not a PEM certificate and its unencrypted private key" in capsys.readouterr().err
    import ssl

    trusted = ssl.create_default_context(cafile=str(tmp_path / "ca.pem"))
    port = free_port()
    with skywarden_process(*base, "--port", str(port), "--tls-cert", str(tmp_path / "cert.pem"),
                           "--tls-key", str(tmp_path / "key.pem")) as proc:
        got = None
        end = time.monotonic() + 30
        while time.monotonic() < end:
            try:
                got = httpx.get(f"https://127.0.0.1:{port}/api/v1/borders.geojson",
                                verify=trusted, timeout=2.0)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        assert got is not None and got.status_code == 200
        assert got.json()["type"] == "FeatureCollection"
        with pytest.raises(httpx.TransportError):  # plain HTTP is not served
            httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=2.0)
        out = stop(proc)
    assert proc.returncode == 0, out
    assert f"serving on https://127.0.0.1:{port}/" in out


def test_retention_flags_become_the_runtime_settings():
    import argparse

    import pytest

    from skywarden.errors import ConfigError
    from skywarden.serve import _retention
    from skywarden.store import DAY

    r = _retention(argparse.Namespace(keep_history=2.0, keep_alerts=0.0))
    assert (r.track_history_s, r.events_s, r.audit_s) == (2 * DAY, None, None)
    with pytest.raises(ConfigError, match="--keep-alerts -3"):
        _retention(argparse.Namespace(keep_history=1.0, keep_alerts=-3.0))
