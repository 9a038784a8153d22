"""Messages as bytes, for a bus that crosses a process boundary (JSON, via msgspec).

The local bus never encodes: it hands over the objects. A network bus calls
:func:`encode` when publishing and :func:`decode` with the record type its subject
carries (a batch is a JSON array: ``decode(data, list[TrackUpdate])``). Encoders and
decoders are made once and reused, as msgspec advises for hot paths.
"""

from __future__ import annotations

from typing import Any, TypeVar

import msgspec

from ..errors import RecordError
from .base import Message

T = TypeVar("T")

_encoder = msgspec.json.Encoder()
_decoders: dict[Any, msgspec.json.Decoder[Any]] = {}


def encode(message: Message) -> bytes:
    """``bytes`` as they are; a record or a list of records as JSON."""
    if isinstance(message, bytes | bytearray | memoryview):
        return bytes(message)
    try:
        return _encoder.encode(message)
    except (TypeError, msgspec.EncodeError) as exc:
        raise RecordError(f"message cannot be encoded: {exc}") from exc


def decode(data: bytes, record_type: type[T]) -> T:
    """Bytes back to ``record_type``; a :class:`~skywarden.errors.RecordError` names the
    field that is wrong."""
    decoder = _decoders.get(record_type)
    if decoder is None:
        decoder = _decoders[record_type] = msgspec.json.Decoder(record_type)
    try:
        return decoder.decode(data)  # type: ignore[no-any-return]
    except msgspec.DecodeError as exc:  # ValidationError included
        name = record_type.__name__ if isinstance(record_type, type) else str(record_type)
        raise RecordError(f"message is not a {name}: {exc}") from exc
