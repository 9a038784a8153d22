"""Drone Remote ID (ASTM F3411 / ASD-STAN EN 4709-002, "Open Drone ID") -> Detections.

- :mod:`.messages`: one 25-byte message -> a typed record (pure; bit layouts drawn there);
- :mod:`.transport`: what Bluetooth and Wi-Fi receivers deliver -> the messages inside;
- :mod:`.assemble`: per-drone memory across frames -> ``position`` Detections with
  ``rid:`` ids and the operator's position (:class:`RemoteIdDecoder`);
- :mod:`.lines`: the ``EPOCH HEX [TRANSPORT] [MAC]`` recording format.

docs/REMOTEID.md explains what is decoded, the units, and what is rejected and why.
"""

from .assemble import DroneMemory, RemoteIdDecoder, anchor_time
from .lines import decode_remoteid_lines, decode_remoteid_recording, parse_line
from .messages import (
    Authentication,
    BasicId,
    Location,
    Message,
    OperatorId,
    SelfId,
    System,
    decode_message,
    split_pack,
)
from .transport import TRANSPORTS, Payload, unwrap

__all__ = [
    "TRANSPORTS",
    "Authentication",
    "BasicId",
    "DroneMemory",
    "Location",
    "Message",
    "OperatorId",
    "Payload",
    "RemoteIdDecoder",
    "SelfId",
    "System",
    "anchor_time",
    "decode_message",
    "decode_remoteid_lines",
    "decode_remoteid_recording",
    "parse_line",
    "split_pack",
    "unwrap",
]
