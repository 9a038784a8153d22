"""Field types and checks shared by the output settings (TAK, webhooks)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import msgspec

from ..errors import ConfigError

Nation = Annotated[str, msgspec.Meta(pattern=r"^[A-Z]{3}$",
                                     description="ISO 3166-1 alpha-3 code")]
Port = Annotated[int, msgspec.Meta(ge=1, le=65535)]
Seconds = Annotated[float, msgspec.Meta(gt=0.0)]
NonNegativeSeconds = Annotated[float, msgspec.Meta(ge=0.0)]
QueueSize = Annotated[int, msgspec.Meta(ge=1, le=1_000_000)]
Level = Annotated[int, msgspec.Meta(ge=0, le=4)]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]


def check_file(what: str, field: str, value: str | None) -> None:
    """A configured file must exist and be a file (messages name the field)."""
    if value is not None and not Path(value).is_file():
        raise ConfigError(f"{what}: field {field}: no such file {value!r}")


def check_env(what: str, field: str, value: str | None) -> None:
    """A secret is named by an environment variable, which must be set and not empty."""
    if value is not None and not os.environ.get(value):
        raise ConfigError(f"{what}: field {field}: environment variable {value!r} is not "
                          "set (secrets are read from the environment, never the file)")
