"""The REST request body limit (--http-max-body-mb): bodies beyond are 413s, found out from
Content-Length before reading when it is given, else while counting the body as it streams."""

from __future__ import annotations

from starlette.types import Receive, Scope

from app.protocol.errors import InvalidInput, PayloadTooLarge

CONTENT_LENGTH = b"content-length"


def too_large(limit: int, size: int | None = None) -> PayloadTooLarge:
    """The error for a body over `limit` bytes (of `size` bytes, when known)."""
    of = f"of {size} bytes " if size is not None else ""
    return PayloadTooLarge(
        f"request body {of}exceeds the limit of {limit} bytes "
        "(--http-max-body-mb / OIPSERVE_HTTP_MAX_BODY_MB)"
    )


def check_declared(content_length: bytes | None, limit: int) -> None:
    """PayloadTooLarge if the Content-Length header's value is over `limit`."""
    if content_length is not None and content_length.isdigit() and int(content_length) > limit:
        raise too_large(limit, int(content_length))


def declared_length(scope: Scope) -> bytes | None:
    """The Content-Length header's value, if any."""
    for name, value in scope["headers"]:
        if name == CONTENT_LENGTH:
            return bytes(value)
    return None


async def read_body(receive: Receive, content_length: bytes | None, limit: int) -> bytes:
    """The whole request body, or PayloadTooLarge as soon as it is known to exceed `limit`."""
    check_declared(content_length, limit)
    parts: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise InvalidInput("the client disconnected before sending the whole body")
        chunk: bytes = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise too_large(limit)
        if not message.get("more_body", False):
            return b"".join([*parts, chunk]) if parts else chunk
        parts.append(chunk)
