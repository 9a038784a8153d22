"""site.toml: the documented example loads; every mistake is named with file:line, table,
key and reason; nothing half-read."""

from __future__ import annotations

from pathlib import Path

import pytest

from skywarden.errors import ConfigError
from skywarden.live.site import load_site
from skywarden.serve import DEFAULTS, resolve

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "site.toml"

BASE = """\
[[sensor]]
id = "rx"
type = "adsb"
owner = "LTU"
lat = 54.6
lon = 25.2

[[sensor]]
id = "radar"
type = "radar"
owner = "LTU"
lat = 54.6
lon = 25.3
sac = 25
sic = 1
"""


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "site.toml"
    p.write_text(text, encoding="utf-8")
    return p


def test_the_documented_example_loads_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SKYWARDEN_WEBHOOK_SECRET", "s3cret")
    site = load_site(EXAMPLE)
    assert site.service.port == 8080 and site.service.cap_status == "Exercise"
    assert site.registry is not None and len(site.registry) == 5
    assert {(s.sac, s.sic) for s in site.registry if s.sac is not None} == {
        (25, 1), (25, 2), (25, 100)}
    assert [f.type for f in site.feeds] == ["asterix", "beast", "remoteid"]
    assert site.feeds[0].group == "239.25.1.1"
    assert [(o.type, o.name) for o in site.outputs] == [("tak", "ltu-tak"),
                                                       ("webhook", "duty-officer"),
                                                       ("asterix", "ltu-atm")]
    assert [o.nation for o in site.organisations] == ["LTU", "LVA"]


def test_command_line_wins_over_the_file_and_data_is_relative_to_it(tmp_path: Path) -> None:
    site = load_site(write(tmp_path, '[service]\nport = 9000\nlag = 0.5\ndata = "d"\n'))
    import argparse

    args = argparse.Namespace(**{k: None for k in DEFAULTS})
    args.lag = 1.5
    got = resolve(args, site)
    assert got.port == 9000  # from the file
    assert got.lag == 1.5  # the command line's
    assert got.tick == DEFAULTS["tick"]  # neither: the default
    assert got.data == (tmp_path / "d").resolve()


def test_a_feed_with_a_typo_is_named_with_its_line(tmp_path: Path) -> None:
    text = BASE + '\n[[feed]]\nname = "a"\ntype = "sbs"\nsensor = "rx"\nconnect = "h:30003"\n' \
        '\n[[feed]]\nname = "b"\ntype = "beast"\nsensor = "rx"\nconect = "h:30005"\n'
    path = write(tmp_path, text)
    line = text.splitlines().index("[[feed]]", 20) + 1
    with pytest.raises(ConfigError) as err:
        load_site(path)
    assert str(err.value).startswith(f"{path}:{line}: feed #2 ('b'): unknown key 'conect'")


@pytest.mark.parametrize(("feed", "why"), [
    ('type = "beast"\nsensor = "rx"\nlisten = "0.0.0.0:30005"', "read from a receiver's TCP"),
    ('type = "beast"\nsensor = "radar"\nconnect = "h:30005"', "is a radar sensor; a beast feed "
                                                              "needs a adsb sensor"),
    ('type = "sbs"\nsensor = "nobody"\nconnect = "h:30003"', "'nobody' is not a [[sensor]]"),
    ('type = "sbs"\nconnect = "h:30003"', "missing key 'sensor'"),
    ('type = "asterix"\nlisten = "0.0.0.0:8600"\ngroup = "10.0.0.1"', "not a multicast"),
    ('type = "asterix"\nconnect = "h:8600"', "arrives over UDP"),
    ('type = "asterix"\nsensor = "radar"\nlisten = ":8600"', "HOST:PORT"),
    ('type = "asterix"\nsensor = "radar"\nlisten = "0.0.0.0:8600"', "names its sensors by SAC"),
    ('type = "sbs"\nsensor = "rx"\nconnect = "h:30003"\nlisten = "h:1"', "exactly one of"),
    ('type = "sbs"\nsensor = "rx"\nconnect = "h:99999"', "1-65535"),
    ('type = "gps"\nsensor = "rx"\nconnect = "h:1"', "key 'type'"),
    ('type = "sbs"\nsensor = "rx"\nconnect = "h:1"\nidle_s = 0', "idle_s"),
])
def test_bad_feeds_are_refused_with_the_reason(tmp_path: Path, feed: str, why: str) -> None:
    path = write(tmp_path, BASE + f'\n[[feed]]\nname = "f"\n{feed}\n')
    with pytest.raises(ConfigError, match="feed #1 \\('f'\\)") as err:
        load_site(path)
    assert why in str(err.value)


def test_an_asterix_feed_needs_a_sensor_with_sac_sic(tmp_path: Path) -> None:
    text = BASE.replace("sac = 25\nsic = 1\n", "") + \
        '\n[[feed]]\nname = "ax"\ntype = "asterix"\nlisten = "0.0.0.0:8600"\n'
    with pytest.raises(ConfigError, match="no \\[\\[sensor\\]\\] has 'sac' and 'sic'"):
        load_site(write(tmp_path, text))


@pytest.mark.parametrize(("text", "why"), [
    ("[servce]\nport = 1\n", "unknown top-level key(s) servce"),
    ("[service]\nport = 0\n", "not a TCP port"),
    ("[service]\nport = \"80\"\n", "key 'port': Expected int | null, got str"),
    ("[service]\nlag = -1\n", "'lag' = -1"),
    ("[feed]\nname = 'x'\n", "write [[feed]]"),
    ("[[organisation]]\nid = 'x'\nname = 'X'\nnation = 'Lithuania'\n", "not an ISO alpha-3"),
    ("[[organisation]]\nid = 'x'\nname = 'X'\nroles = ['king']\n", "king: each is one of"),
    ("[[organisation]]\nid = 'x'\nname = 'X'\n[[organisation]]\nid = 'x'\nname = 'Y'\n",
     "used twice"),
    ("[[output]]\ntype = 'pigeon'\nname = 'p'\n", "'pigeon' is not one of tak, webhook"),
    ("a = [", "not valid TOML"),
])
def test_other_mistakes_are_named(tmp_path: Path, text: str, why: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_site(write(tmp_path, text))
    assert why in str(err.value)
    assert str(err.value).startswith(str(tmp_path / "site.toml"))


def test_a_bad_sensor_is_named_with_its_line(tmp_path: Path) -> None:
    text = BASE + '\n[[sensor]]\nid = "r2"\ntype = "radar"\nowner = "LTU"\nlat = 1.0\nlon = 2.0\n' \
        'sac = 300\nsic = 1\n'
    path = write(tmp_path, text)
    line = [i + 1 for i, t in enumerate(text.splitlines()) if t == "[[sensor]]"][2]
    with pytest.raises(ConfigError, match=f"{path}:{line}: sensor #3 \\('r2'\\): sac = 300"):
        load_site(path)


def test_a_file_that_is_not_text_is_said_so(tmp_path: Path) -> None:
    path = tmp_path / "site.toml"
    path.write_bytes(b"[service]\nport = 8080\n# \xff\xfe\n")
    with pytest.raises(ConfigError, match=r"site.toml: not valid TOML: not UTF-8 text "
                                          r"\(byte 0xff at offset 24\)"):
        load_site(path)


def test_a_missing_file_is_said_so(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_site(tmp_path / "nope.toml")


def test_serve_help_states_the_defaults_in_force() -> None:
    """``skywarden --help`` must not import the runtime, so the serve options' help texts
    spell their defaults out; they must say what resolve() really uses."""
    import re

    from skywarden.cli import build_parser

    sub = next(a for a in build_parser()._actions if a.dest == "command")
    helps = {a.dest: a.help for a in sub.choices["serve"]._actions}
    stated = {"lag": "default {:g})", "max_late": "(default {:g};", "tick": "(default {:g})",
              "assess_period": "(default {:g};", "keep_history": "(default {:g} days",
              "keep_alerts": "(default {:g} days", "port": "{}"}
    for key, form in stated.items():
        text = helps[key] if key != "port" else str(sub.choices["serve"].format_help())
        assert form.format(DEFAULTS[key]) in re.sub(r"\s+", " ", text), key


def test_the_tracker_table_sets_the_deployments_identity_rules(tmp_path: Path,
                                                               make_runtime) -> None:
    """[tracker]: the tracker's settings in the site file, identity_rules relative to it;
    the service's tracker uses them (a deployment's own allow list of friendly ids)."""
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "ids.toml").write_text(
        'allow = ["icao:4CA*"]\n[[rule]]\nallow_listed = true\nidentity = "friend"\n')
    site = load_site(write(tmp_path, BASE + '\n[tracker]\nidentity_rules = "rules/ids.toml"\n'
                                            'confirm_score = 12.0\n'))
    assert site.tracker is not None and site.tracker.confirm_score == 12.0
    assert site.tracker.identity_rules == str(tmp_path / "rules" / "ids.toml")
    rt = make_runtime(tracker_config=site.tracker)
    assert rt.pipeline.tracker.rules.allow == ["icao:4ca*"]
    assert rt.pipeline.tracker.config.confirm_score == 12.0


@pytest.mark.parametrize("tracker, why", [
    ("window = 0.0", "[tracker]: tracker setting window = 0.0 must be > 0"),
    ("windw = 1.0", "[tracker]: unknown tracker setting(s) windw"),
    ('identity_rules = "none.toml"', "[tracker]: key 'identity_rules':"),
    ("reorder_lag = 5.0", "[tracker]: key 'reorder_lag': the service sets it from [service] lag"),
])
def test_a_bad_tracker_table_is_named_with_its_line(tmp_path: Path, tracker: str,
                                                     why: str) -> None:
    text = BASE + f"\n[tracker]\n{tracker}\n"
    line = text[:text.index("[tracker]")].count("\n") + 1
    with pytest.raises(ConfigError) as err:
        load_site(write(tmp_path, text))
    assert str(err.value).startswith(f"{tmp_path / 'site.toml'}:{line}: [tracker]: ")
    assert why in str(err.value)
