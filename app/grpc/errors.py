"""The gRPC side of the shared status table, and the one decorator every RPC uses."""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Any, NoReturn, TypeVar

import grpc

from app.protocol.errors import OIPError, Status

log = logging.getLogger("oipserve.grpc")

CODES: dict[Status, grpc.StatusCode] = {status: grpc.StatusCode[status.grpc] for status in Status}
"""The gRPC status code of each protocol status."""

MAX_DETAILS = 2048
"""The longest error message sent whole: the rest is cut (a message naming a name of 100k
characters would exceed what clients take as grpc-message metadata, 16 KB)."""

Servicer = TypeVar("Servicer")
Request = TypeVar("Request")
Reply = TypeVar("Reply")
Context = grpc.aio.ServicerContext[Any, Any]
Method = Callable[[Servicer, Request, Context], Awaitable[Reply]]


def reports_errors(method: Method[Servicer, Request, Reply]) -> Method[Servicer, Request, Reply]:
    """Abort the call with the status and message of any protocol error the method raises;
    anything else is a bug, logged and reported as INTERNAL."""

    @functools.wraps(method)
    async def wrapper(self: Servicer, request: Request, context: Context) -> Reply:
        try:
            return await method(self, request, context)
        except Exception as error:
            await abort_with(context, error, method.__name__)

    return wrapper


async def abort_with(
    context: grpc.aio.ServicerContext[Any, Any], error: Exception, method: str
) -> NoReturn:
    """Abort the call with the status and message of a protocol error; any other error is
    a bug, logged and reported as INTERNAL."""
    if isinstance(error, OIPError):
        message = error.message
        if len(message) > MAX_DETAILS:
            message = message[:MAX_DETAILS] + "..."
        await context.abort(CODES[error.status], message)
    log.exception("unexpected error in %s", method, exc_info=error)
    await context.abort(grpc.StatusCode.INTERNAL, f"internal error: {type(error).__name__}")
