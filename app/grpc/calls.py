"""The gRPC side of an inference call: request id and X- metadata in, back out as trailing
metadata; a cancelled RPC (client gone, deadline passed) is counted as such.
`tracked` wraps the ModelInfer RPC."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, TypeVar

import grpc

from app.calls import (
    CANCELLED,
    DEADLINE_EXCEEDED,
    GRPC,
    SUCCESS,
    Call,
    current_call,
    outcome_of,
)
from app.dataplane import DataPlane
from app.grpc.errors import abort_with
from app.grpc.generated import open_inference_pb2 as pb

Context = grpc.aio.ServicerContext[Any, Any]
Reply = TypeVar("Reply")


class Servicer(Protocol):
    dataplane: DataPlane


Servicer_ = TypeVar("Servicer_", bound=Servicer)
Method = Callable[[Servicer_, pb.ModelInferRequest, Context], Awaitable[Reply]]


def _take_metadata(context: Context, call: Call) -> None:
    for key, value in context.invocation_metadata() or ():
        if key[:2] == "x-" and isinstance(value, str):
            call.take_header(key, value)


def _why_cancelled(context: Context) -> str:
    remaining = context.time_remaining()
    return DEADLINE_EXCEEDED if remaining is not None and remaining <= 0 else CANCELLED


def tracked(method: Method[Servicer_, Reply]) -> Method[Servicer_, Reply]:
    """The ModelInfer RPC, counted by the Monitor as one call, its errors reported as
    statuses (as `reports_errors` does, here in the same frame: this runs on every request)."""

    @functools.wraps(method)
    async def wrapper(self: Servicer_, request: pb.ModelInferRequest, context: Context) -> Reply:
        monitor = self.dataplane.monitor
        call = monitor.begin(GRPC, request.model_name)
        _take_metadata(context, call)
        token = current_call.set(call)
        try:
            reply = await method(self, request, context)
        except asyncio.CancelledError:
            monitor.finish(call, call.cancelled or _why_cancelled(context))
            raise
        except BaseException as error:
            context.set_trailing_metadata(call.echo())  # first: the log line has the id
            monitor.finish(call, outcome_of(error))
            if isinstance(error, Exception):
                await abort_with(context, error, method.__name__)
            raise
        finally:
            current_call.reset(token)
        monitor.finish(call, SUCCESS)
        context.set_trailing_metadata(call.echo())
        return reply

    return wrapper
