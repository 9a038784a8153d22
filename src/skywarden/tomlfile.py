"""Reading a TOML file: one place that says why a file is not TOML.

``tomllib`` raises ``TOMLDecodeError`` for bad syntax but lets a binary or non-UTF-8
file through as a bare ``UnicodeDecodeError``; both become a :class:`TomlError` naming
the file and the reason. A file that cannot be opened raises ``OSError`` as usual: each
caller says that in its own words, except the configuration files read by
:func:`read_config_text` (a site file, a tracker settings file), which say it alike.
:func:`table_lines` finds a table's header lines, for messages that point at them.
"""

from __future__ import annotations

import re
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
    return read_toml_text(path)[1]


def read_toml_text(path: str | Path) -> tuple[str, dict[str, Any]]:
    """The text of ``path`` and its parsed document (callers that point at lines need
    the text); :class:`TomlError` if it is not UTF-8 text or not TOML."""
    data = Path(path).read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        reason = (f"not valid TOML: not UTF-8 text (byte 0x{exc.object[exc.start]:02x} "
                  f"at offset {exc.start})")
        raise TomlError(path, reason) from exc
    return text, parse_toml(text, path)


def parse_toml(text: str, where: str | Path) -> dict[str, Any]:
    """The parsed document of ``text`` (read from ``where``, a path or a name for the
    message); :class:`TomlError` if it is not TOML."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise TomlError(where, f"not valid TOML: {exc}") from exc


def read_config_text(path: str | Path) -> tuple[str, dict[str, Any]]:
    """:func:`read_toml_text` of a configuration file, a file that cannot be opened
    being a :class:`ConfigError` too (``PATH: cannot read: reason``)."""
    try:
        return read_toml_text(path)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None


def table_lines(text: str, name: str) -> list[int]:
    """1-based line numbers of each ``[[name]]`` header (or the ``[name]`` header), in order."""
    array = re.compile(rf"^[ \t]*\[\[[ \t]*{re.escape(name)}[ \t]*\]\]", re.M)
    single = re.compile(rf"^[ \t]*\[[ \t]*{re.escape(name)}[ \t]*\]", re.M)
    found = [text.count("\n", 0, m.start()) + 1 for m in array.finditer(text)]
    return found or [text.count("\n", 0, m.start()) + 1 for m in single.finditer(text)]
