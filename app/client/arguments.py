"""Checks of the arguments both clients take, so that a misplaced argument is a clear
TypeError naming the parameter (not a failure deep inside httpx or grpc), and gRPC metadata
grpc would refuse is InvalidInput."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from app.client.defaults import UseClientDefault
from app.protocol.errors import InvalidInput

_KEY = re.compile(r"[0-9a-z_.\-]+")
_VALUE = re.compile(r"[\x20-\x7e]*")

Metadata = Sequence[tuple[str, str | bytes]] | Mapping[str, str | bytes]


def check_seconds(call: str, timeout: object, also: tuple[type, ...] = ()) -> None:
    """TypeError unless `timeout` is a number of seconds, None, USE_CLIENT_DEFAULT or of one
    of the `also` types."""
    number = isinstance(timeout, int | float) and not isinstance(timeout, bool)
    if number and not timeout > 0:  # type: ignore[operator]
        raise ValueError(f"{call}(): timeout must be more than 0 seconds, got {timeout!r}")
    if number or timeout is None or isinstance(timeout, (UseClientDefault, *also)):
        return
    hint = " (a version goes by keyword: version=...)" if isinstance(timeout, str) else ""
    raise TypeError(f"{call}(): timeout must be a number of seconds or None, got {timeout!r}{hint}")


def check_optional(call: str, parameter: str, value: object, kind: type | tuple[type, ...]) -> None:
    """TypeError unless `value` is None or of `kind`."""
    if value is not None and not isinstance(value, kind):
        names = " or ".join(k.__name__ for k in (kind if isinstance(kind, tuple) else (kind,)))
        raise TypeError(f"{call}(): {parameter} must be a {names} or None, got {value!r}")


def http_headers(call: str, headers: object) -> None:
    """TypeError for REST headers (a mapping, checked by the caller) that are not text,
    InvalidInput for one HTTP cannot carry: names and values are printable ASCII."""
    for key, value in headers.items() if isinstance(headers, Mapping) else ():
        if not (isinstance(key, str) and isinstance(value, str)):
            raise TypeError(f"{call}(): header names and values must be text, got {key!r}")
        if not (key + value).isascii() or not (key + value).isprintable():
            raise InvalidInput(
                f"{call}(): header {key!r}: names and values must be printable ASCII, got {value!r}"
            )


def grpc_metadata(call: str, headers: Any) -> list[tuple[str, str | bytes]]:
    """`headers` (pairs or a mapping) as gRPC metadata: TypeError for anything else,
    InvalidInput for a key or value grpc refuses (keys are lower-case ASCII letters, digits
    and `-_.`; values of `-bin` keys are bytes, others printable ASCII text)."""
    if headers is None:
        return []
    if isinstance(headers, Mapping):
        headers = list(headers.items())
    if isinstance(headers, str | bytes) or not isinstance(headers, Sequence):
        raise TypeError(
            f"{call}(): headers must be (key, value) pairs or a mapping, got {headers!r}"
        )
    pairs: list[tuple[str, str | bytes]] = []
    for pair in headers:
        if not (isinstance(pair, tuple | list) and len(pair) == 2):
            raise TypeError(f"{call}(): headers must be (key, value) pairs, got {pair!r}")
        key, value = pair
        _check_pair(key, value)
        pairs.append((key, value))
    return pairs


def _check_pair(key: object, value: object) -> None:
    if not isinstance(key, str) or not _KEY.fullmatch(key):
        raise InvalidInput(
            f"gRPC metadata key {key!r} is not valid: keys are lower-case ASCII letters, "
            "digits and -_."
        )
    if key.endswith("-bin"):
        if not isinstance(value, bytes):
            raise InvalidInput(f"gRPC metadata {key!r}: a -bin key takes bytes, got {value!r}")
    elif not isinstance(value, str) or not _VALUE.fullmatch(value):
        raise InvalidInput(
            f"gRPC metadata {key!r}: the value must be printable ASCII text, got {value!r}"
        )
