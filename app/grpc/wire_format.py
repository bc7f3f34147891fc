"""The protobuf wire format, where oipserve writes or reads bytes itself: length-delimited
field keys and varints (https://protobuf.dev/programming-guides/encoding/)."""

from __future__ import annotations

from typing import Any


def field_key(message: Any, field: str) -> bytes:
    """The key of a length-delimited field (bytes, a sub-message or a packed repeated field)
    of the message class `message`, for field numbers below 16 (one byte)."""
    number: int = message.DESCRIPTOR.fields_by_name[field].number
    assert number < 16, "one-byte keys only"
    return bytes([number << 3 | 2])


def read_varint(data: bytes, offset: int) -> tuple[int, int]:
    """The varint at `offset` in `data`, and the offset after it."""
    value = shift = 0
    while True:
        byte = data[offset]
        value |= (byte & 0x7F) << shift
        offset += 1
        if byte < 0x80:
            return value, offset
        shift += 7


def varint(value: int) -> bytes:
    """`value` (>= 0) as a varint."""
    out = bytearray()
    while value >= 0x80:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)
