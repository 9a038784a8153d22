"""One exception tree for Skywarden.

    SkywardenError
     +-- ConfigError (ValueError)        a settings, registry or scenario file is wrong
     |    +-- RegistryError                  the sensor registry (file, sensor, key, reason)
     |    +-- ScenarioError                  a scenario file
     |    +-- ZoneError                      a zone file or zone (file, feature or line, reason)
     +-- RecordError (ValueError)        one input record is wrong
          +-- BadLineError                   a JSON Lines line (path, line, reason)

Lower-level errors (msgspec, tomllib, OSError) are translated where they enter and chained
with ``raise ... from``, so callers catch one of these and can print it as it stands: every
message says what is wrong, where (file:line or field) and why.
"""

from __future__ import annotations


class SkywardenError(Exception):
    """Root of every error Skywarden raises on purpose."""


class ConfigError(SkywardenError, ValueError):
    """A configuration, registry or scenario file is invalid."""


class RegistryError(ConfigError):
    """The sensor registry is invalid."""


class ScenarioError(ConfigError):
    """A scenario file is invalid."""


class ZoneError(ConfigError):
    """An airspace zone, or a feature or line of a zone file, is invalid.

    ``path`` is the file ('' for a zone made in code or on the command line), ``where``
    the feature (index and id or name) or the line, ``reason`` what is wrong with it.
    """

    def __init__(self, path: str, where: str, reason: str) -> None:
        self.path = path
        self.where = where
        self.reason = reason
        super().__init__(": ".join(part for part in (path, where, reason) if part))


class RecordError(SkywardenError, ValueError):
    """One record is invalid."""


class BadLineError(RecordError):
    """A line of a JSON Lines file could not be used.

    ``where`` is ``path:line``; ``reason`` says why, naming the field where there is one.
    """

    def __init__(self, path: str, line: int, reason: str) -> None:
        self.path = path
        self.line = line
        self.reason = reason
        super().__init__(f"{path}:{line}: {reason}")

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}"
