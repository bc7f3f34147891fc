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


_SKIP = {0: -1, 1: 8, 5: 4}
"""Bytes to skip after the key of a field that is not length-delimited, by wire type (-1: a
varint)."""


def split_field(data: bytes, number: int) -> tuple[bytes, list[memoryview]]:
    """The top-level fields of message `data` other than field `number`, re-joined, and the
    values of length-delimited field `number` as views of `data` (not copied: protobuf copies
    a bytes field into the message and again out of it). ValueError for bytes that are not a
    message."""
    view = memoryview(data)
    kept: list[memoryview] = []
    found: list[memoryview] = []
    offset, end = 0, len(data)
    try:
        while offset < end:
            start = offset
            key, offset = read_varint(data, offset)
            wire_type = key & 7
            if wire_type == 2:
                length, offset = read_varint(data, offset)
                value_end = offset + length
            elif wire_type in _SKIP:
                skip = _SKIP[wire_type]
                value_end = read_varint(data, offset)[1] if skip < 0 else offset + skip
            else:
                raise ValueError(f"wire type {wire_type} at byte {start}")
            if value_end > end:
                raise ValueError(f"a field at byte {start} runs past the end")
            if key >> 3 == number and wire_type == 2:
                found.append(view[offset:value_end])
            else:
                kept.append(view[start:value_end])
            offset = value_end
    except IndexError:
        raise ValueError("the message ends inside a field") from None
    return b"".join(kept), found
