"""The audit log: append-only JSON Lines with a hash chain that shows tampering."""

import json

import pytest

from skywarden.records import AlertEvent
from skywarden.warn import AuditError, AuditLog, verify
from skywarden.warn.audit import GENESIS

T0 = 1757453400.0


def _events():
    return [
        AlertEvent(
            time=T0,
            alert="T1:POL:1",
            event="raised",
            level=2,
            kind="predicted_entry",
            nation="POL",
            track="T1",
            lat=52.0,
            lon=23.5,
            eta=T0 + 300,
            probability=0.8,
            actions=["notify_atc"],
        ),
        AlertEvent(
            time=T0 + 5,
            alert="T1:POL:1",
            event="escalated",
            level=3,
            kind="incursion",
            nation="POL",
            track="T1",
            lat=52.0,
            lon=23.6,
        ),
        AlertEvent(
            time=T0 + 9,
            alert="T1:POL:1",
            event="acknowledged",
            level=3,
            kind="incursion",
            nation="POL",
            track="T1",
            by="duty officer Nowak",
            note="ATC informed",
        ),
        AlertEvent(
            time=T0 + 99,
            alert="T1:POL:1",
            event="ended",
            level=0,
            kind="incursion",
            nation="POL",
            track="T1",
        ),
    ]


def _log(path, fsync=False):
    with AuditLog(path, fsync=fsync) as log:
        for e in _events():
            log.record(e)
        return log.head


def test_entries_carry_actor_action_details_and_a_chain(tmp_path):
    path = tmp_path / "audit.jsonl"
    head = _log(path)
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [e["seq"] for e in lines] == [1, 2, 3, 4]
    assert [e["action"] for e in lines] == ["raised", "escalated", "acknowledged", "ended"]
    assert [e["actor"] for e in lines] == ["system", "system", "duty officer Nowak", "system"]
    assert lines[0]["prev"] == GENESIS
    assert all(b["prev"] == a["hash"] for a, b in zip(lines, lines[1:], strict=False))
    assert lines[0]["details"]["level"] == 2 and lines[0]["details"]["eta"] == T0 + 300
    assert lines[2]["details"]["note"] == "ATC informed"
    result = verify(path, expect_head=head)
    assert (result.entries, result.head) == (4, head)


def test_reopening_continues_the_chain(tmp_path):
    path = tmp_path / "audit.jsonl"
    _log(path)
    with AuditLog(path, fsync=True) as log:
        assert log.seq == 4
        entry = log.append(T0 + 200, "operator Lis", "note", None, {"text": "shift change"})
    assert entry["seq"] == 5
    assert verify(path).entries == 5


@pytest.mark.parametrize(
    ("tamper", "line", "reason"),
    [
        # change a level inside an entry
        (lambda ls: ls.__setitem__(1, ls[1].replace('"level":3', '"level":1')), 2, "altered"),
        # change who acknowledged
        (lambda ls: ls.__setitem__(2, ls[2].replace("Nowak", "Smith")), 3, "altered"),
        # remove an entry
        (lambda ls: ls.pop(1), 2, "removed, inserted or reordered"),
        # swap two entries
        (lambda ls: ls.__setitem__(slice(1, 3), [ls[2], ls[1]]), 2, "removed, inserted"),
        # not JSON any more
        (lambda ls: ls.__setitem__(3, ls[3][:-5]), 4, "not valid JSON"),
    ],
)
def test_a_tampered_log_fails_verification_at_the_line(tmp_path, tamper, line, reason):
    path = tmp_path / "audit.jsonl"
    _log(path)
    lines = path.read_text().splitlines()
    tamper(lines)
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(AuditError) as info:
        verify(path)
    assert info.value.line == line
    assert reason in info.value.reason
    assert str(info.value).startswith(f"{path}:{line}: ")


def test_rewriting_an_entry_with_a_fresh_hash_breaks_the_next_link(tmp_path):
    path = tmp_path / "audit.jsonl"
    _log(path)
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    forged = dict(lines[1])
    forged["details"] = dict(forged["details"], level=1)
    forged.pop("hash")
    from skywarden.warn.audit import _canonical, _hash

    forged["hash"] = _hash(forged)
    text = [json.dumps(e) for e in lines]
    text[1] = _canonical(forged).decode()
    path.write_text("\n".join(text) + "\n")
    with pytest.raises(AuditError) as info:
        verify(path)
    assert info.value.line == 3


def test_truncation_shows_against_the_kept_head(tmp_path):
    path = tmp_path / "audit.jsonl"
    head = _log(path)
    lines = path.read_text().splitlines()
    path.write_text("\n".join(lines[:-1]) + "\n")
    assert verify(path).entries == 3  # a valid shorter chain...
    with pytest.raises(AuditError, match="entries missing at the end"):
        verify(path, expect_head=head)  # ...but not the head kept elsewhere


def test_an_incomplete_last_entry_stops_appending(tmp_path):
    path = tmp_path / "audit.jsonl"
    _log(path)
    with path.open("ab") as fh:
        fh.write(b'{"seq":5,')
    with pytest.raises(AuditError, match="incomplete"):
        AuditLog(path)
    with pytest.raises(AuditError, match="incomplete entry"):
        verify(path)


def test_entry_needs_an_actor_and_nan_becomes_null(tmp_path):
    with AuditLog(tmp_path / "a.jsonl") as log:
        with pytest.raises(ValueError, match="actor"):
            log.append(T0, "", "note", None)
        entry = log.append(T0, "system", "note", "x", {"eta": float("nan")})
    assert entry["details"]["eta"] is None
    assert verify(tmp_path / "a.jsonl").entries == 1
