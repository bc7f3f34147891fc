"""Request messages parsed by the handler rather than by grpc, so that bytes which are not
the message get INVALID_ARGUMENT naming it (grpc answers UNKNOWN, with a traceback in the
log, when its own deserializer fails)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

import grpc
from google.protobuf.message import DecodeError, Message

Context = grpc.aio.ServicerContext[Any, Any]
Request = TypeVar("Request", bound=Message)
Reply = TypeVar("Reply")


async def parse(message: type[Request], data: bytes, context: Context) -> Request:  # noqa: RET503
    """`data` as a `message`; the call aborts with INVALID_ARGUMENT if it is not one."""
    try:
        return message.FromString(data)
    except DecodeError as error:
        why = f"the request is not a {message.DESCRIPTOR.name}: {error}"
    await context.abort(grpc.StatusCode.INVALID_ARGUMENT, why)


def unary(
    handler: Callable[[Request, Context], Awaitable[Reply]], message: type[Request]
) -> Callable[[bytes, Context], Awaitable[Reply]]:
    """`handler`, given the bytes grpc receives, parsed as `message`."""

    async def parsing(data: bytes, context: Context) -> Reply:
        return await handler(await parse(message, data, context), context)

    return parsing


def server_stream(
    handler: Callable[[Request, Context], AsyncIterator[Reply]], message: type[Request]
) -> Callable[[bytes, Context], AsyncIterator[Reply]]:
    """The streaming `handler`, given the bytes grpc receives, parsed as `message`."""

    async def parsing(data: bytes, context: Context) -> AsyncIterator[Reply]:
        async for reply in handler(await parse(message, data, context), context):
            yield reply

    return parsing


def bidi_stream(
    handler: Callable[[AsyncIterator[Request], Context], AsyncIterator[Reply]],
    message: type[Request],
) -> Callable[[AsyncIterator[bytes], Context], AsyncIterator[Reply]]:
    """The bidirectional `handler`, given each of the messages grpc receives parsed as
    `message`."""

    async def parsing(requests: AsyncIterator[bytes], context: Context) -> AsyncIterator[Reply]:
        async def parsed() -> AsyncIterator[Request]:
            async for data in requests:
                yield await parse(message, data, context)

        async for reply in handler(parsed(), context):
            yield reply

    return parsing
