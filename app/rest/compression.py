"""gzip on REST, both ways, as one pure ASGI middleware around every route (inference
included): a request body sent with `Content-Encoding: gzip` is inflated before any route
reads it, held to the same limit as any body (413 beyond it); a body that is not gzip is a 400,
as is an encoding other than gzip. An answer of at least `minimum` bytes is compressed when the
client accepts gzip. A request with neither header goes through untouched.
"""

from __future__ import annotations

import zlib

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.protocol.errors import InvalidInput
from app.rest.errors import send_error
from app.rest.limits import CONTENT_LENGTH, read_body, too_large

CONTENT_ENCODING = b"content-encoding"
_ACCEPT_ENCODING = b"accept-encoding"
_GZIP = b"gzip"
_IDENTITY = b"identity"
_GZIP_WINDOW = 16 + zlib.MAX_WBITS
"""zlib's window bits for the gzip format."""


class Gzip:
    """Inflates gzip request bodies, holding them to `limit` bytes, and compresses answers of
    `minimum` bytes or more (0: none) for clients that accept gzip."""

    def __init__(self, app: ASGIApp, limit: int, minimum: int) -> None:
        self.app = app
        self.limit = limit
        self.minimum = minimum

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        encoding = accept = None
        if scope["type"] == "http":
            for name, value in scope["headers"]:
                if name == CONTENT_ENCODING:
                    encoding = value.strip().lower()
                elif name == _ACCEPT_ENCODING:
                    accept = value
        if accept is not None and self.minimum and _accepts_gzip(accept):
            send = _Compressing(send, self.minimum)
        if encoding is None or encoding == _IDENTITY:
            await self.app(scope, receive, send)
            return
        try:
            if encoding != _GZIP:
                raise InvalidInput(
                    f"Content-Encoding {encoding.decode('latin-1')!r} is not supported: send "
                    "the body as it is or gzip-compressed"
                )
            body = self._inflate(await read_body(receive))
        except Exception as error:
            await send_error(send, error, scope["method"], scope["path"])
            return
        headers = [
            (name, value)
            for name, value in scope["headers"]
            if name not in (CONTENT_ENCODING, CONTENT_LENGTH)
        ]
        headers.append((CONTENT_LENGTH, str(len(body)).encode()))
        sent = False

        async def inflated() -> Message:
            nonlocal sent
            if sent:
                return await receive()  # what comes after the body: a disconnect
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app({**scope, "headers": headers}, inflated, send)

    def _inflate(self, compressed: bytes | bytearray) -> bytes:
        """The body of every gzip member in `compressed` (as `gzip -d` reads them: one
        after the other), held to the limit."""
        parts: list[bytes] = []
        size = 0
        rest: bytes | bytearray = compressed
        while True:
            inflater = zlib.decompressobj(_GZIP_WINDOW)
            try:
                part = inflater.decompress(rest, self.limit + 1 - size)
            except zlib.error as error:
                where = f" after {len(parts)} gzip members" if parts else ""
                raise InvalidInput(f"the body is not valid gzip{where}: {error}") from None
            size += len(part)
            if size > self.limit:
                raise too_large(self.limit)
            if not inflater.eof:
                raise InvalidInput("the body is not valid gzip: it ends before the gzip stream")
            parts.append(part)
            rest = inflater.unused_data
            if not rest:
                return parts[0] if len(parts) == 1 else b"".join(parts)


def _accepts_gzip(accept: bytes) -> bool:
    """Whether an Accept-Encoding value names gzip (or `*`) with a weight above 0."""
    for coding in accept.lower().split(b","):
        token, _, weight = coding.partition(b";")
        if token.strip() in (_GZIP, b"*"):
            return weight.replace(b" ", b"") not in (b"q=0", b"q=0.0", b"q=0.00")
    return False


class _Compressing:
    """A `send` that compresses the answer when it is large enough and not encoded yet: the
    start is held back until the first part of the body says which."""

    def __init__(self, send: Send, minimum: int) -> None:
        self.send = send
        self.minimum = minimum
        self.start: Message | None = None
        self.deflater: zlib._Compress | None = None
        self.passing = False

    async def __call__(self, message: Message) -> None:
        kind = message["type"]
        if self.passing or kind not in ("http.response.start", "http.response.body"):
            await self.send(message)
        elif kind == "http.response.start":
            self.start = message
        elif self.deflater is None:
            await self._begin(message)
        else:
            await self._compress(message)

    async def _begin(self, message: Message) -> None:
        """The start and the first part of the body, compressed or as they are."""
        start = self.start
        assert start is not None
        body: bytes = message.get("body", b"")
        more = message.get("more_body", False)
        headers = list(start.get("headers", []))
        encoded = any(name.lower() == CONTENT_ENCODING for name, _ in headers)
        if encoded or (len(body) < self.minimum and not more):
            self.passing = True
            await self.send(start)
            await self.send(message)
            return
        self.deflater = zlib.compressobj(6, zlib.DEFLATED, _GZIP_WINDOW)
        headers = [(name, value) for name, value in headers if name.lower() != CONTENT_LENGTH]
        headers += [(CONTENT_ENCODING, _GZIP), (b"vary", b"Accept-Encoding")]
        if more:  # streamed: its length is not known
            await self.send({**start, "headers": headers})
            await self._compress(message)
            return
        compressed = self.deflater.compress(body) + self.deflater.flush()
        headers.append((CONTENT_LENGTH, str(len(compressed)).encode()))
        await self.send({**start, "headers": headers})
        await self.send({**message, "body": compressed})

    async def _compress(self, message: Message) -> None:
        assert self.deflater is not None
        chunk = self.deflater.compress(message.get("body", b""))
        if not message.get("more_body", False):
            chunk += self.deflater.flush()
        await self.send({**message, "body": chunk})
