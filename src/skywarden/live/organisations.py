"""Organisations and tokens: the admin commands' work, and the demo's first-start set.

A token is shown once, when issued; the store keeps only its hash. The demo writes the
tokens it makes to ``DATA/demo-tokens.txt`` (mode 0600, readable by its owner only), so
a newcomer can sign in to the map; a real deployment issues tokens with
``skywarden token issue`` and hands each to its organisation.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path

from ..store import SqliteStore, StoreError

__all__ = ["DEMO_ORGANISATIONS", "ROLES", "DemoToken", "check_roles", "demo_tokens"]

ROLES = ("viewer", "operator", "admin")
TOKENS_FILE = "demo-tokens.txt"
# (id, name, nation): the nations of the poland-2025-09 night and an ally further west.
DEMO_ORGANISATIONS = (
    ("pol-ops", "Poland, air operations centre (demo)", "POL"),
    ("ltu-ops", "Lithuania, air operations centre (demo)", "LTU"),
    ("lva-ops", "Latvia, air operations centre (demo)", "LVA"),
    ("deu-ops", "Germany, air operations centre (demo)", "DEU"),
)


@dataclass(frozen=True, slots=True)
class DemoToken:
    organisation: str
    nation: str
    role: str
    token: str


def check_roles(roles: list[str]) -> list[str]:
    bad = [r for r in roles if r not in ROLES]
    if bad or not roles:
        raise ValueError(f"role(s) {', '.join(bad) or '(none)'}: each is one of "
                         f"{', '.join(ROLES)}")
    return roles


def demo_tokens(store: SqliteStore, data_dir: Path) -> tuple[Path, list[DemoToken], bool]:
    """Make the demo organisations and their tokens on first start; returns (the tokens
    file, the tokens, whether they were made now). Later starts read the file back, as
    long as the store still knows every token in it: after the store was removed (a
    fresh start on the same data directory) or a demo token revoked, the file would only
    hand out tokens that cannot sign in, so new ones are made."""
    path = Path(data_dir) / TOKENS_FILE
    if path.is_file():
        tokens = _read(path)
        if tokens and all(store.check_token(t.token) is not None for t in tokens):
            return path, tokens, False
        path.unlink()
    made: list[DemoToken] = []
    for org_id, name, nation in DEMO_ORGANISATIONS:
        # An organisation made by an earlier start whose tokens file was removed is
        # kept; it gets new tokens.
        with contextlib.suppress(StoreError):
            store.add_organisation(org_id, name, nation=nation, roles=["operator"],
                                   by="demo")
        made.append(DemoToken(org_id, nation, "operator",
                              store.issue_token(org_id, by="demo").token))
    made.append(DemoToken("pol-ops", "POL", "viewer",
                          store.issue_token("pol-ops", roles=["viewer"], by="demo").token))
    made.append(DemoToken("pol-ops", "POL", "admin",
                          store.issue_token("pol-ops", roles=["admin"], by="demo").token))
    lines = ["# Skywarden demo tokens: organisation nation role token",
             "# Send as 'Authorization: Bearer <token>', or paste into the map's sign-in.",
             *(f"{t.organisation} {t.nation} {t.role} {t.token}" for t in made)]
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write("\n".join(lines) + "\n")
    return path, made, True


def _read(path: Path) -> list[DemoToken]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if len(parts) == 4 and not line.startswith("#"):
            out.append(DemoToken(*parts))
    return out
