"""A copy on disk of what assessment builds once, so a new process loads it in a moment.

Files live in ``$SKYWARDEN_CACHE_DIR``, else ``$XDG_CACHE_HOME/skywarden``, else
``~/.cache/skywarden``; ``SKYWARDEN_CACHE_DIR=off`` turns the cache off. A file's name
is a hash of everything the content depends on (the format version, the border data,
the parameters), so changed borders or parameters never meet a stale file. Files are
written to a temporary name and renamed; a file that cannot be read or written is
ignored (the arrays are then simply built).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from pathlib import Path

import numpy as np
import shapely

from ..airspace.borders import Borders

FORMAT = 1  # bump when the layout or the algorithms behind the arrays change


def directory() -> Path | None:
    """Where cached files go, or None when caching is off."""
    env = os.environ.get("SKYWARDEN_CACHE_DIR")
    if env is not None:
        return None if env.lower() in ("", "off", "0", "none") else Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "skywarden"


def borders_key(kind: str, borders: Borders, *params: float) -> str:
    """A file name for arrays built from ``borders`` with ``params``."""
    h = hashlib.sha256(f"{kind}:{FORMAT}:{params!r}:{borders.bbox!r}".encode())
    for code in borders.codes:
        h.update(code.encode())
        h.update(shapely.to_wkb(borders.geometry(code), hex=False))
    return f"{kind}-{h.hexdigest()[:24]}.npz"


def load(name: str) -> dict[str, np.ndarray] | None:
    """The arrays saved under ``name``, or None."""
    folder = directory()
    if folder is None:
        return None
    try:
        with np.load(folder / name, allow_pickle=False) as data:
            return {k: data[k] for k in data.files}
    except (OSError, ValueError, KeyError):
        return None


def save(name: str, arrays: dict[str, np.ndarray]) -> None:
    """Save ``arrays`` under ``name`` (atomically; errors are ignored)."""
    folder = directory()
    if folder is None:
        return
    tmp = None
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".npz", dir=folder)
        with os.fdopen(fd, "wb") as fh:
            np.savez_compressed(fh, **arrays)
        os.replace(tmp, folder / name)
    except OSError:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
