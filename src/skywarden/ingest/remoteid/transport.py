"""What Remote ID receivers deliver -> the 25-byte messages inside (F3411-22a section 5.4).

Accepted framings (``transport`` names in brackets)::

    [ble]  Bluetooth advertising data, legacy (BT4) or extended (BT5 long range): AD
           structures [len][type][len-1 bytes]...; the Remote ID one is service data with a
           16-bit UUID: [len] 16 FA FF 0D [counter] [one message | message pack]
           (UUID 0xFFFA little-endian, application code 0x0D). Also the service data from
           the application code on, as Android and tshark give it: 0D [counter] [...]
    [wifi] Wi-Fi Beacon: the vendor-specific element DD [len] FA 0B BC 0D [counter] [pack]
           (OUI FA:0B:BC of ASD-STAN, OUI type 0x0D), alone, among a beacon's other
           elements, or in a whole beacon management frame (80 00 ..., elements at 36)
    [nan]  Wi-Fi NAN service-specific info: [counter] [message pack]
    [raw]  a bare message pack (F? 19 N ...) or one bare 25-byte message

With ``transport="auto"`` the framing is recognised by its signature bytes, in the order
above read from the bottom: 25 bytes is a bare message, F? 19 a bare pack, then the
Wi-Fi and Bluetooth signatures; the signatures do not overlap. The counter (one byte the
transmitter increments when the content changes) is returned but not needed to decode.

:func:`unwrap` is pure and never raises: it gives a :class:`Payload` or a ``rejected:`` /
``ignored:`` outcome string.
"""

from __future__ import annotations

from dataclasses import dataclass

from .messages import MESSAGE_SIZE, PACK, split_pack

TRANSPORTS = ("auto", "ble", "wifi", "nan", "raw")

BLE_SERVICE_DATA = 0x16
BLE_UUID = b"\xfa\xff"  # 0xFFFA, little-endian
APP_CODE = 0x0D
WIFI_VENDOR_ELEMENT = 0xDD
WIFI_OUI_AND_TYPE = b"\xfa\x0b\xbc\x0d"
# An 802.11 beacon: frame control 80 00, 24-byte MAC header, 12 fixed bytes, elements.
BEACON_FRAME_CONTROL = b"\x80\x00"
BEACON_ELEMENTS_AT = 36


@dataclass(frozen=True, slots=True)
class Payload:
    """The messages one received frame carried, and how it came."""

    transport: str
    counter: int | None
    messages: tuple[bytes, ...]
    packed: bool


def _body(transport: str, counter: int | None, body: bytes) -> Payload | str:
    """A message pack or one message, after any counter."""
    if body and body[0] >> 4 == PACK:
        msgs = split_pack(body)
        if isinstance(msgs, str):
            return msgs
        return Payload(transport, counter, tuple(msgs), True)
    if len(body) != MESSAGE_SIZE:
        return f"rejected: {transport} payload neither a message pack nor one 25-byte message"
    return Payload(transport, counter, (body,), False)


def _ble_service_data(body: bytes) -> Payload | str:
    """From the application code on: 0D [counter] [message or pack]."""
    if len(body) < 2:
        return "rejected: BLE service data too short"
    if body[0] != APP_CODE:
        return "rejected: BLE service data application code not 0x0D"
    return _body("ble", body[1], body[2:])


def _ble_find(data: bytes) -> bytes | str | None:
    """The Remote ID service data in an AD structure chain (after the UUID); None if the
    chain is well formed but has none; a reason if the chain is malformed."""
    i = 0
    while i < len(data):
        n = data[i]
        if n == 0:  # a zero length ends the significant part; the rest is padding
            return None
        if i + 1 + n > len(data):
            return "rejected: BLE AD structure truncated"
        if data[i + 1] == BLE_SERVICE_DATA and data[i + 2:i + 4] == BLE_UUID:
            return data[i + 4:i + 1 + n]
        i += 1 + n
    return None


def _app_code_first(data: bytes) -> bool:
    """Service data from the application code on (0D counter message...)."""
    return len(data) >= 2 + MESSAGE_SIZE and data[0] == APP_CODE


def unwrap_ble(data: bytes) -> Payload | str:
    found = _ble_find(data)
    if isinstance(found, bytes):
        return _ble_service_data(found)
    if _app_code_first(data):
        return _ble_service_data(data)
    if found is None:
        return "ignored: BLE advertisement without Remote ID service data"
    return found


def _wifi_find(data: bytes) -> bytes | str | None:
    """The Remote ID vendor element's content after OUI and type, in an element chain."""
    i = 0
    while i + 2 <= len(data):
        eid, n = data[i], data[i + 1]
        if i + 2 + n > len(data):
            return "rejected: Wi-Fi element truncated"
        if eid == WIFI_VENDOR_ELEMENT and data[i + 2:i + 6] == WIFI_OUI_AND_TYPE:
            return data[i + 6:i + 2 + n]
        i += 2 + n
    return None


def unwrap_wifi(data: bytes) -> Payload | str:
    found = _wifi_find(data)
    if not isinstance(found, bytes) and data[:2] == BEACON_FRAME_CONTROL:
        found = _wifi_find(data[BEACON_ELEMENTS_AT:])
    if isinstance(found, bytes):
        if len(found) < 1:
            return "rejected: Wi-Fi Remote ID element without counter"
        return _body("wifi", found[0], found[1:])
    if found is None:
        return "ignored: Wi-Fi frame without Remote ID element"
    return found


def unwrap_nan(data: bytes) -> Payload | str:
    if len(data) < 2:
        return "rejected: NAN service info too short"
    return _body("nan", data[0], data[1:])


def unwrap_raw(data: bytes) -> Payload | str:
    return _body("raw", None, data)


def _looks_wifi(data: bytes) -> bool:
    return isinstance(_wifi_find(data), bytes) or (
        data[:2] == BEACON_FRAME_CONTROL
        and isinstance(_wifi_find(data[BEACON_ELEMENTS_AT:]), bytes))


def unwrap(data: bytes, transport: str = "auto") -> Payload | str:
    """One received frame -> its messages, or the outcome that says why there are none.

    ``transport`` is one of :data:`TRANSPORTS`; ``auto`` recognises the framing.
    """
    if not data:
        return "rejected: empty frame"
    if transport == "ble":
        return unwrap_ble(data)
    if transport == "wifi":
        return unwrap_wifi(data)
    if transport == "nan":
        return unwrap_nan(data)
    if transport == "raw":
        return unwrap_raw(data)
    if transport != "auto":
        return "rejected: unknown transport"
    if len(data) == MESSAGE_SIZE or (data[0] >> 4 == PACK and data[1:2] == b"\x19"):
        return unwrap_raw(data)
    if _looks_wifi(data):
        return unwrap_wifi(data)
    if isinstance(_ble_find(data), bytes) or _app_code_first(data):
        return unwrap_ble(data)
    if len(data) >= 4 and data[1] >> 4 == PACK and data[2] == MESSAGE_SIZE:
        return unwrap_nan(data)
    return "rejected: unrecognised framing"
