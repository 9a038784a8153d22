"""Graduated-response rules: shipped files load, bad files are named precisely, levels
are evaluated per row by the rules of the nation warned."""

import numpy as np
import pytest

from skywarden.errors import ConfigError, RecordError
from skywarden.warn import Assessment, RulesError, load_rulebook, load_rules, parse_rules
from skywarden.warn.rules import RULES_DIR

GOOD = """
nation = "POL"
name = "Poland"

[[level]]
level = 1
name = "watch"
[[level.when]]
target_kind = ["nation"]
eta_max_s = 1800
probability_min = 0.3
[[level.actions]]
do = "notify_atc"
units = ["EPWW"]

[[level]]
level = 3
name = "incursion"
[[level.when]]
inside = true
identity = ["unknown", "suspect", "hostile"]
cooperative = false
[[level.when]]
zone_type = ["airport"]
distance_max_m = 2000
class = ["drone"]
[[level.when]]
class = ["missile"]
class_confidence_min = 0.4
[[level.actions]]
do = "public_warning"
regions = ["Lubelskie"]
instruction = "Stay indoors."
[[level.actions]]
do = "inform_neighbour"
nations = ["LTU"]
"""


def _write(tmp_path, text, name="POL.toml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def _row(**kw):
    base = dict(track_id="T1", time=1000.0, lat=52.0, lon=23.5, target_id="POL")
    base.update(kw)
    return base


def test_shipped_rulebook_loads_with_default_and_nations():
    book = load_rulebook()
    assert {"default", "POL", "LTU", "LVA", "ROU"} <= set(book.rules)
    for rules in book.rules.values():
        assert [lvl.level for lvl in rules.levels] == [0, 1, 2, 3, 4]
        assert all(lvl.when for lvl in rules.levels[1:])
    # a nation without a file gets the default rules
    assert book.for_nation("EST").nation == "default"
    assert book.level("POL", 3).public_warning is not None
    assert book.level("LTU", 2).action("inform_neighbour").get("nations") == ("POL", "LVA")


def test_good_file_parses_levels_clauses_and_actions(tmp_path):
    rules = load_rules(_write(tmp_path, GOOD))
    assert rules.nation == "POL" and rules.name == "Poland"
    assert rules.level(2).name == "warning" and rules.level(2).when == ()
    inc = rules.level(3)
    assert len(inc.when) == 3
    assert inc.when[1].zone_type == ("airport",) and inc.when[1].cls == ("drone",)
    assert inc.when[2].class_confidence_min == 0.4
    assert inc.action_names == ["public_warning", "inform_neighbour"]
    assert inc.public_warning.get("regions") == ("Lubelskie",)
    assert inc.public_warning.get("instruction") == "Stay indoors."


@pytest.mark.parametrize(
    ("edit", "where", "key", "reason"),
    [
        (
            ('units = ["EPWW"]', 'unit = ["EPWW"]'),
            "level[0] (watch).actions[0] (notify_atc)",
            "unit",
            "unknown key",
        ),
        (
            ("eta_max_s = 1800", 'eta_max_s = "soon"'),
            "level[0] (watch).when[0]",
            "eta_max_s",
            "is not a number",
        ),
        (
            ("probability_min = 0.3", "probability_min = 1.5"),
            "level[0] (watch).when[0]",
            "probability_min",
            "is not a number in [0, 1]",
        ),
        (
            ("class_confidence_min = 0.4", "class_confidence_min = -0.1"),
            "level[1] (incursion).when[2]",
            "class_confidence_min",
            "is not a number in [0, 1]",
        ),
        (
            ('class = ["drone"]', 'class = ["ufo"]'),
            "level[1] (incursion).when[1]",
            "class",
            "'ufo' is not one of",
        ),
        (
            ('identity = ["unknown",', 'identity = ["foe",'),
            "level[1] (incursion).when[0]",
            "identity",
            "'foe' is not one of",
        ),
        (
            ('zone_type = ["airport"]', 'zone_type = "airport"'),
            "level[1] (incursion).when[1]",
            "zone_type",
            "non-empty list",
        ),
        (
            ("inside = true", "inside = 1"),
            "level[1] (incursion).when[0]",
            "inside",
            "not true or false",
        ),
        (
            ('nations = ["LTU"]', 'nations = ["Lithuania"]'),
            "level[1] (incursion).actions[1]",
            "nations",
            "not an ISO 3166-1 alpha-3",
        ),
        (
            ('do = "notify_atc"', 'do = "shoot"'),
            "level[0] (watch).actions[0]",
            "do",
            "'shoot' is not one of",
        ),
        (("level = 3", "level = 1"), "level[1]", "level", "defined twice"),
        (("level = 3", "level = 7"), "level[1]", "level", "not an integer 0-4"),
    ],
)
def test_bad_file_names_file_table_key_and_reason(tmp_path, edit, where, key, reason):
    old, new = edit
    assert old in GOOD
    path = _write(tmp_path, GOOD.replace(old, new, 1))
    with pytest.raises(RulesError) as info:
        load_rules(path)
    err = info.value
    assert isinstance(err, ConfigError)
    assert err.path == str(path)
    assert err.where == where
    assert err.key == key
    assert reason in err.reason
    assert str(err).startswith(f"{path}: {where}: key {key!r}: ")


def test_nation_must_match_file_name(tmp_path):
    with pytest.raises(RulesError, match="does not match the file name"):
        load_rules(_write(tmp_path, GOOD, name="LTU.toml"))


def test_level_without_clause_and_level0_with_actions_are_errors():
    with pytest.raises(RulesError, match="needs at least one clause"):
        parse_rules({"nation": "POL", "level": [{"level": 2}]})
    with pytest.raises(RulesError, match="level 0 is the absence of an alert"):
        parse_rules({"nation": "POL", "level": [{"level": 0, "actions": [{"do": "notify_atc"}]}]})
    with pytest.raises(RulesError, match="key 'nation'"):
        parse_rules({"nation": "Poland"})
    with pytest.raises(RulesError, match="key 'levels': unknown key"):
        parse_rules({"nation": "POL", "levels": []})


def test_not_toml_and_missing_default(tmp_path):
    path = _write(tmp_path, "nation = \n")
    with pytest.raises(RulesError, match="not valid TOML"):
        load_rules(path)
    path.unlink()
    _write(tmp_path, GOOD)
    with pytest.raises(RulesError, match="no default.toml"):
        load_rulebook(tmp_path)


def test_levels_of_hand_made_rows(tmp_path):
    rules = load_rules(_write(tmp_path, GOOD))
    a = Assessment.from_rows(
        [
            # approaching, 10 min, p 0.5 -> watch
            _row(eta_s=600, probability=0.5),
            # approaching too late -> nothing
            _row(eta_s=3600, probability=0.9),
            # eta unknown (NaN) -> nothing, whatever the probability
            _row(probability=0.9),
            # inside, unknown, not cooperative -> incursion
            _row(inside=True),
            # inside but cooperative -> the nation clause of level 1 needs an eta: nothing
            _row(inside=True, cooperative=True),
            # inside and friend -> nothing
            _row(inside=True, identity="friend"),
            # drone near an airport zone -> level 3 by the second clause
            _row(
                target_kind="zone",
                target_id="EPWA-CTR",
                target_owner="POL",
                zone_type="airport",
                cls="drone",
                distance_m=1500.0,
            ),
            # the same 3 km away -> nothing (zone rows do not match the nation clause)
            _row(
                target_kind="zone",
                target_id="EPWA-CTR",
                target_owner="POL",
                zone_type="airport",
                cls="drone",
                distance_m=3000.0,
                eta_s=60,
                probability=1.0,
            ),
            # a missile class held at 0.4 or more -> incursion by the third clause; at
            # less, or with no confidence given (NaN), the clause does not hold
            _row(cls="missile", identity="friend", class_confidence=0.4),
            _row(cls="missile", identity="friend", class_confidence=0.39),
            _row(cls="missile", identity="friend"),
        ]
    ).check()
    assert rules.evaluate(a).tolist() == [1, 0, 0, 3, 0, 0, 3, 0, 3, 0, 0]


def test_each_row_uses_its_owners_rules():
    book = load_rulebook()
    rows = [
        # POL warns 15 min ahead, the default rules 10 min ahead
        _row(eta_s=800, probability=0.8, target_id="POL", cls="drone", identity="suspect"),
        _row(eta_s=800, probability=0.8, target_id="EST", cls="drone", identity="suspect"),
        _row(eta_s=500, probability=0.8, target_id="EST", cls="drone", identity="suspect"),
        # a missile over the nation: critical everywhere
        _row(inside=True, cls="missile", identity="hostile", target_id="LTU",
             class_confidence=0.6),
        # civil airliner (neutral, transponder) inside: nothing
        _row(inside=True, cls="aircraft", identity="neutral", cooperative=True, target_id="LVA"),
        # a "missile" on thin evidence (one report), or with no confidence given, is a
        # hostile incursion, not yet a critical one with a public warning
        _row(inside=True, cls="missile", identity="hostile", target_id="LTU",
             class_confidence=0.26),
        _row(inside=True, cls="missile", identity="hostile", target_id="POL"),
    ]
    levels = book.evaluate(Assessment.from_rows(rows).check())
    assert levels.dtype == np.int8
    assert levels.tolist() == [2, 1, 2, 4, 0, 3, 3]


def test_evaluation_is_vectorized_over_many_rows():
    book = load_rulebook()
    n = 20000
    rng = np.random.default_rng(1)
    a = Assessment(
        track_id=np.array([f"T{i}" for i in range(n)]),
        time=np.full(n, 1000.0),
        lat=np.full(n, 52.0),
        lon=np.full(n, 23.0),
        alt=np.full(n, 300.0),
        cls=rng.choice(["drone", "aircraft", "missile"], n),
        identity=rng.choice(["unknown", "neutral", "hostile"], n),
        cooperative=rng.random(n) < 0.3,
        target_kind=np.full(n, "nation"),
        target_id=rng.choice(["POL", "LTU", "EST"], n),
        target_owner=np.full(n, ""),
        zone_type=np.full(n, ""),
        inside=rng.random(n) < 0.2,
        eta_s=rng.uniform(0, 4000, n),
        probability=rng.random(n),
        distance_m=rng.uniform(0, 1e5, n),
    )
    a.target_owner = a.target_id.copy()
    levels = book.evaluate(a.check())
    assert levels.shape == (n,)
    # spot-check against the per-row evaluation
    for i in range(0, n, 997):
        one = book.for_nation(str(a.target_owner[i])).evaluate(a.take(np.array([i])))
        assert one[0] == levels[i]


def test_assessment_check_names_bad_column_and_row():
    with pytest.raises(RecordError, match="column identity, row 1: 'foe'"):
        Assessment.from_rows([_row(), _row(identity="foe")]).check()
    with pytest.raises(RecordError, match="column probability, row 0"):
        Assessment.from_rows([_row(probability=1.2)]).check()
    with pytest.raises(RecordError, match="nation target has zone_type"):
        Assessment.from_rows([_row(zone_type="airport")]).check()
    a = Assessment.from_rows([_row(), _row()])
    a.lat = a.lat[:1]
    with pytest.raises(RecordError, match="column lat: shape"):
        a.check()
    assert len(Assessment.empty().check()) == 0
    # status is optional: '' when not given, else a track status
    with pytest.raises(RecordError, match="column status, row 0: 'lost'"):
        Assessment.from_rows([_row(status="lost")]).check()
    # class_confidence is optional: NaN when not given, else in [0, 1]
    with pytest.raises(RecordError, match="column class_confidence, row 1: 1.5"):
        Assessment.from_rows([_row(), _row(class_confidence=1.5)]).check()
    assert np.isnan(Assessment.from_rows([_row()]).check().class_confidence).all()
    both = Assessment.from_rows([_row(status="coasting"), _row()]).check()
    assert both.status.tolist() == ["coasting", ""]
    assert both.take(np.array([0])).status.tolist() == ["coasting"]


def test_shipped_rules_directory_holds_only_valid_files():
    for path in sorted(RULES_DIR.glob("*.toml")):
        assert load_rules(path).nation == path.stem
