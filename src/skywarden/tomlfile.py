"""Reading a TOML file: one place that says why a file is not TOML.

``tomllib`` raises ``TOMLDecodeError`` for bad syntax but lets a binary or non-UTF-8
file through as a bare ``UnicodeDecodeError``; both become a :class:`TomlError` naming
the file and the reason. A file that cannot be opened raises ``OSError`` as usual: each
caller says that in its own words.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from .errors import ConfigError


class TomlError(ConfigError):
    """``PATH: not valid TOML: reason``; ``reason`` without the path."""

    def __init__(self, path: str | Path, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{path}: {reason}")


def read_toml(path: str | Path) -> dict[str, Any]:
    """The parsed document of ``path``; :class:`TomlError` if it is not TOML."""
    with Path(path).open("rb") as fh:
        try:
            return tomllib.load(fh)
        except UnicodeDecodeError as exc:
            reason = (f"not valid TOML: not UTF-8 text (byte 0x{exc.object[exc.start]:02x} "
                      f"at offset {exc.start})")
            raise TomlError(path, reason) from exc
        except tomllib.TOMLDecodeError as exc:
            raise TomlError(path, f"not valid TOML: {exc}") from exc
