"""Organisations and API tokens: only salted hashes are stored."""

import pytest

from skywarden.clock import ManualClock
from skywarden.store import SqliteStore, StoreError
from skywarden.store import tokens as token_hashing

T0 = 1_757_450_000.0


@pytest.fixture
def db(tmp_path):
    store = SqliteStore(tmp_path / "t.db", clock=ManualClock(T0))
    store.add_organisation("pl-ops", "Polish air operations", nation="POL",
                           roles=["read", "acknowledge"])
    yield store
    store.close()


def test_an_issued_token_grants_its_organisations_roles(db):
    issued = db.issue_token("pl-ops")
    assert issued.token.startswith(f"swt_{issued.id}_")
    grant = db.check_token(issued.token)
    assert grant is not None
    assert (grant.id, grant.organisation, grant.roles, grant.nation) == (
        issued.id, "pl-ops", ["read", "acknowledge"], "POL")
    narrower = db.issue_token("pl-ops", roles=["read"])
    assert db.check_token(narrower.token).roles == ["read"]


def test_wrong_malformed_unknown_revoked_and_expired_tokens_grant_nothing(db):
    issued = db.issue_token("pl-ops", expires=T0 + 60)
    wrong = issued.token[:-1] + ("A" if issued.token[-1] != "A" else "B")
    assert db.check_token(wrong) is None
    assert db.check_token("swt_000000000000_" + "x" * 43) is None
    assert db.check_token("Bearer nonsense") is None
    assert db.check_token("") is None
    assert db.check_token(issued.token, at=T0 + 61) is None  # expired
    assert db.check_token(issued.token, at=T0 + 59) is not None
    assert db.revoke_token(issued.id, by="admin", at=T0 + 10)
    assert db.check_token(issued.token, at=T0 + 20) is None
    assert not db.revoke_token(issued.id, by="admin")
    assert not db.revoke_token("ffffffffffff", by="admin")


def test_raw_tokens_are_never_written_to_disk(db, tmp_path):
    issued = [db.issue_token("pl-ops") for _ in range(3)]
    secrets = [t.token.split("_", 2)[2] for t in issued]

    def everything_on_disk():
        return b"".join(p.read_bytes() for p in sorted(tmp_path.iterdir()) if p.is_file())

    data = everything_on_disk()  # the database, its WAL and shared-memory files
    assert b"scrypt$" in data  # the hashes are there...
    for t, s in zip(issued, secrets, strict=True):
        assert t.token.encode() not in data  # ...the tokens are not
        assert s.encode() not in data
    db.close()
    data = everything_on_disk()
    for t, s in zip(issued, secrets, strict=True):
        assert t.token.encode() not in data and s.encode() not in data
    # the audit log names the token by its id only
    again = SqliteStore(db.path)
    try:
        issued_entries = [e for e in again.audit_entries() if e.action == "token.issued"]
        assert [e.details["token"] for e in issued_entries] == [t.id for t in issued]
        assert again.check_token(issued[0].token) is not None
    finally:
        again.close()


def test_the_hash_is_salted_and_checked_in_constant_time():
    a = token_hashing.hash_secret("same secret")
    b = token_hashing.hash_secret("same secret")
    assert a != b and a.startswith("scrypt$")
    assert token_hashing.check_secret("same secret", a)
    assert token_hashing.check_secret("same secret", b)
    assert not token_hashing.check_secret("other secret", a)
    assert not token_hashing.check_secret("same secret", "md5$abc")
    assert not token_hashing.check_secret("same secret", "garbage")


def test_organisations_are_unique_and_tokens_need_one(db):
    with pytest.raises(StoreError, match="organisation 'pl-ops' exists"):
        db.add_organisation("pl-ops", "again")
    with pytest.raises(StoreError, match="no organisation 'nobody'"):
        db.issue_token("nobody")
