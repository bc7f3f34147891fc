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


def string_field(key: bytes, text: str) -> bytes:
    """A string field, or nothing for "" (proto3 leaves default values out)."""
    if not text:
        return b""
    data = text.encode()
    return key + varint(len(data)) + data


def packed_int64s(key: bytes, values: list[int]) -> bytes:
    """A packed repeated int64 field (negative values as their 64-bit two's complement),
    or nothing when empty."""
    if not values:
        return b""
    data = b"".join([varint(value & _UINT64) for value in values])
    return key + varint(len(data)) + data


_UINT64 = 2**64 - 1
