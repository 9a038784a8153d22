"""API tokens: made at random, shown once, stored only as a salted scrypt hash.

A token reads ``swt_<id>_<secret>``: ``id`` (12 hex digits) is public and finds the
stored row; ``secret`` (43 characters, 256 random bits) is checked against the hash. The
stored form is ``scrypt$<n>$<r>$<p>$<salt>$<digest>`` (base64), so the parameters can be
raised later while old hashes still verify.

256 random bits cannot be guessed, so the hash need not be as slow as a password's: the
cost here (n = 2**12, 4 MiB, about 20 ms on a small server) is a second wall around a
stolen database, cheap enough to check a token per connection. A service that checks a
token per request should remember recent results for a short while.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets

PREFIX = "swt"
_TOKEN = re.compile(r"swt_([0-9a-f]{12})_([A-Za-z0-9_-]{43})")
# scrypt cost: n * r * 128 bytes of memory = 4 MiB.
N, R, P = 2**12, 8, 1
_MAXMEM = 64 * 1024 * 1024


def new_token() -> tuple[str, str, str]:
    """A fresh (token, id, secret)."""
    token_id, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
    return f"{PREFIX}_{token_id}_{secret}", token_id, secret


def split(token: str) -> tuple[str, str] | None:
    """(id, secret) of a well-formed token, else None."""
    m = _TOKEN.fullmatch(token) if isinstance(token, str) else None
    return (m.group(1), m.group(2)) if m else None


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def hash_secret(secret: str, *, n: int = N, r: int = R, p: int = P) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(secret.encode(), salt=salt, n=n, r=r, p=p, maxmem=_MAXMEM,
                            dklen=32)
    return f"scrypt${n}${r}${p}${_b64(salt)}${_b64(digest)}"


def check_secret(secret: str, stored: str) -> bool:
    """Whether ``secret`` matches the stored hash (constant-time comparison)."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        want = base64.b64decode(digest)
        got = hashlib.scrypt(secret.encode(), salt=base64.b64decode(salt), n=int(n),
                             r=int(r), p=int(p), maxmem=_MAXMEM, dklen=len(want))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, want)
