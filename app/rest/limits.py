"""The REST request body limit (--http-max-body-mb), as pure ASGI middleware: a body beyond it
is a 413, found out from Content-Length before reading when it is given, else while the body
streams (the endpoint reading it gets PayloadTooLarge, which its error handler answers)."""

from __future__ import annotations

import sys

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.protocol.errors import InvalidInput, PayloadTooLarge
from app.rest.errors import send_error

CONTENT_LENGTH = b"content-length"
_DIGITS = 18
"""A length of more digits (leading zeros aside) is beyond any limit; int() refuses strings
of more than 4300 digits."""


def too_large(limit: int, size: int | None = None) -> PayloadTooLarge:
    """The error for a body over `limit` bytes (of `size` bytes, when known)."""
    of = f"of {size} bytes " if size is not None else ""
    return PayloadTooLarge(
        f"request body {of}exceeds the limit of {limit} bytes "
        "(--http-max-body-mb / OIPSERVE_HTTP_MAX_BODY_MB)"
    )


class BodyLimit:
    """Answers 413 for a declared body over `limit` bytes; counts an undeclared one."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _declared_length(scope)
        if declared is None:
            await self.app(scope, self._counted(receive), send)
        elif declared > self.limit:
            await send_error(send, too_large(self.limit, declared), scope["method"], scope["path"])
        else:  # the server delivers no more than the declared length
            await self.app(scope, receive, send)

    def _counted(self, receive: Receive) -> Receive:
        size = 0

        async def counted() -> Message:
            nonlocal size
            message = await receive()
            size += len(message.get("body", b""))
            if size > self.limit:
                raise too_large(self.limit)
            return message

        return counted


def _declared_length(scope: Scope) -> int | None:
    """The Content-Length header's value, if it has a valid one."""
    for name, value in scope["headers"]:
        if name == CONTENT_LENGTH:
            if not value.isdigit():
                return None
            digits = value.lstrip(b"0")
            return int(digits or b"0") if len(digits) <= _DIGITS else sys.maxsize
    return None


async def read_body(receive: Receive) -> bytes | bytearray:
    """The whole request body: as it came when it came in one part (empty ones aside), else
    joined into one writable buffer (the join copies anyway; binary tensors over it are then
    writable)."""
    parts: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise InvalidInput("the client disconnected before sending the whole body")
        chunk: bytes = message.get("body", b"")
        if chunk:
            parts.append(chunk)
        if not message.get("more_body", False):
            if len(parts) < 2:  # one part (or none): as it came, no copy
                return parts[0] if parts else b""
            return bytearray().join(parts)
