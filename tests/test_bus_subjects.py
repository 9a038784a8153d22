"""Subjects follow NATS rules: '*' is one token, '>' one or more at the end."""

import pytest

from skywarden.bus import SubjectError, grid_cell, matches, subjects


@pytest.mark.parametrize(
    ("pattern", "subject", "expected"),
    [
        ("tracks.POL", "tracks.POL", True),
        ("tracks.POL", "tracks.LTU", False),
        ("tracks.*", "tracks.POL", True),
        ("tracks.*", "tracks", False),  # '*' needs a token
        ("tracks.*", "tracks.POL.N52E023", False),  # exactly one
        ("*.POL", "alerts.POL", True),
        ("*.*", "a.b", True),
        ("*.*", "a", False),
        ("alerts.>", "alerts.POL", True),
        ("alerts.>", "alerts.POL.4.x", True),
        ("alerts.>", "alerts", False),  # '>' needs at least one token
        ("alerts.>", "alertsX.POL", False),
        (">", "anything", True),
        (">", "a.b.c", True),
        ("*.>", "a", False),
        ("*.>", "a.b", True),
        ("det.*.>", "det.N52E023.PL-R1", True),
        ("det.*.>", "det.N52E023", False),
        ("tracks.POL", "tracks.POL.x", False),
        ("tracks.POL.x", "tracks.POL", False),
    ],
)
def test_wildcards_match_as_nats_does(pattern, subject, expected):
    assert matches(pattern, subject) is expected


@pytest.mark.parametrize("pattern", ["", "a..b", ".a", "a.", "a.>.b", "a.b*", "a.>x", "a b"])
def test_malformed_patterns_are_refused(pattern):
    with pytest.raises(SubjectError):
        subjects.check_pattern(pattern)


@pytest.mark.parametrize("subject", ["", "a..b", "a.*", "a.>", "a.b c", "x.y*"])
def test_publish_subjects_have_no_wildcards_or_empty_tokens(subject):
    with pytest.raises(SubjectError) as err:
        subjects.check_subject(subject)
    assert repr(subject) in str(err.value)


def test_subject_error_says_why():
    with pytest.raises(SubjectError, match="'>' may only be the last token"):
        subjects.check_pattern("a.>.b")
    with pytest.raises(SubjectError, match="not for publishing"):
        subjects.check_subject("tracks.*")


def test_grid_cells_are_named_by_their_south_west_corner():
    assert grid_cell(52.3, 23.9) == "N52E023"
    assert grid_cell(-0.5, -0.5) == "S01W001"
    assert grid_cell(52.3, 23.9, 5) == "N50E020"
    assert grid_cell(90.0, 0.0) == "N89E000"  # the pole is in the last row
    assert grid_cell(10.0, 180.0) == "N10W180"  # longitudes wrap
    assert grid_cell(10.0, 359.5) == "N10W001"
    with pytest.raises(ValueError):
        grid_cell(91.0, 0.0)
    with pytest.raises(ValueError):
        grid_cell(1.0, 1.0, 0)


def test_pipeline_subjects():
    assert subjects.tracks("POL") == "tracks.POL"
    assert subjects.alerts("LTU") == "alerts.LTU"
    assert subjects.detections(grid_cell(52.1, 23.2)) == "det.N52E023"
    assert subjects.sensors("PL radar.1") == "sensors.PL_radar_1"
    assert subjects.audit() == "audit"
    assert matches("alerts.>", subjects.alerts("POL"))
    with pytest.raises(SubjectError):
        subjects.tracks("pol")
    with pytest.raises(SubjectError):
        subjects.detections("N52.E023")


def test_safe_token_makes_one_token():
    assert subjects.safe_token("a.b*c>d e") == "a_b_c_d_e"
    assert subjects.safe_token("") == "_"
    subjects.check_subject(subjects.safe_token(". *>"))
