"""One inference call as the server sees it: its request id, protocol, model version,
X- headers and timings. The transport that receives a request opens a `Call` and makes it
current; the DataPlane and the log records read it from `current_call`."""

from __future__ import annotations

import asyncio
import itertools
import math
import os
from collections.abc import Awaitable, Sequence
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, TypeVar

from app.protocol.errors import DeadlineExceeded, InvalidInput, OIPError
from app.protocol.types import InferenceRequest, Parameters

if TYPE_CHECKING:
    from app.registry import ModelVersion

REST = "rest"
GRPC = "grpc"
INPROCESS = "inprocess"
"""Protocol names, as they appear in metrics and logs."""
SUCCESS = "success"
CANCELLED = "cancelled"
DEADLINE_EXCEEDED = "deadline_exceeded"
"""Outcomes of calls; the others are the error statuses in lower case (`outcome_of`)."""
REQUEST_ID = "x-request-id"
"""The header (REST) or metadata key (gRPC) of the request id."""
TIMEOUT = "timeout"
"""The request parameter that bounds a request's time, in microseconds (as in Triton)."""
Result = TypeVar("Result")

_PREFIX = os.urandom(4).hex()
_serial = itertools.count(1)


def new_request_id() -> str:
    """A request id unique to this process run: a random prefix and a serial number."""
    return f"{_PREFIX}-{next(_serial)}"


class Call:
    """The bookkeeping of one inference request, from arrival to answer."""

    __slots__ = (
        "batch",
        "cancelled",
        "entry",
        "headers",
        "id",
        "infer_ended",
        "infer_started",
        "model",
        "protocol",
        "reply_headers",
        "started",
    )

    def __init__(self, protocol: str, model: str, started: int) -> None:
        self.protocol = protocol
        self.model = model
        self.started = started
        self.id: str | None = None
        self.headers: dict[str, str] | None = None
        """The request's X- headers (lower-case names), which reach the predictor."""
        self.reply_headers: dict[str, str] | None = None
        """The X- headers to send back with the answer."""
        self.entry: ModelVersion | None = None
        """The model version that answers, once the DataPlane has resolved it."""
        self.batch = 1
        self.infer_started = 0
        self.infer_ended = 0
        self.cancelled = ""
        """Why the transport cancelled the call ("cancelled" or "deadline_exceeded")."""

    @property
    def version(self) -> str:
        return self.entry.version if self.entry is not None else ""

    def take_header(self, name: str, value: str) -> None:
        """Keep one X- header of the request (`name` in lower case)."""
        if name == REQUEST_ID:
            self.id = value or self.id
        elif self.headers is None:
            self.headers = {name: value}
        else:
            self.headers[name] = value

    def echo(self) -> list[tuple[str, str]]:
        """The headers the answer carries back: the request id and the X- headers."""
        if self.id is None:
            self.id = new_request_id()
        extra = self.reply_headers if self.reply_headers is not None else self.headers
        return [(REQUEST_ID, self.id), *(extra or {}).items()]

    def settle(self, request: InferenceRequest, batched: bool) -> None:
        """Settle the request id (header, else body, else a new one), pass the X- headers
        on as request parameters, and note the batch size if the model is `batched`."""
        if self.id is None:
            self.id = request.id or new_request_id()
        request.assign_trusted("id", self.id)
        if self.headers:
            request.parameters = {**(request.parameters or {}), **self.headers}
        if batched and request.inputs:
            self.take_batch(request.inputs[0].shape)

    def take_batch(self, shape: Sequence[int]) -> None:
        """Note the batch size of a model with a batch dimension: the first dimension of
        the first input, of `shape`."""
        self.batch = shape[0] if shape else 1


def outcome_of(error: BaseException | None) -> str:
    """The outcome label of a call that ended with `error` (None: success)."""
    if error is None:
        return SUCCESS
    if isinstance(error, OIPError):
        return error.status.name.lower()
    if isinstance(error, asyncio.CancelledError):
        return CANCELLED
    return "internal"


current_call: ContextVar[Call | None] = ContextVar("current_call", default=None)
"""The call being answered in this task (and in the worker threads it starts)."""


def reply_headers(
    headers: dict[str, str] | None, parameters: Parameters | None
) -> dict[str, str] | None:
    """The X- headers of an answer: the request's, then the response's `x-` parameters."""
    if not parameters:
        return headers
    own = {k: v for k, v in parameters.items() if k.startswith("x-") and type(v) is str}
    return {**headers, **own} if headers else own or None


def timeout_seconds(parameters: Parameters | None) -> float | None:
    """The request's `timeout` parameter (microseconds, as in Triton) in seconds, if any."""
    if not parameters or TIMEOUT not in parameters:
        return None
    value = parameters[TIMEOUT]
    if type(value) not in (int, float) or not 0 < value < math.inf:
        raise InvalidInput(
            f"parameter 'timeout' must be a finite number of microseconds > 0, got {value!r}"
        )
    return float(value) / 1e6


async def within(awaitable: Awaitable[Result], seconds: float, call: Call, model: str) -> Result:
    """Await `awaitable`, cancelling it after `seconds`: DeadlineExceeded then."""
    task = asyncio.current_task()
    assert task is not None
    expired: list[bool] = []
    timer = asyncio.get_running_loop().call_later(seconds, _expire, task, expired)
    try:
        return await awaitable
    except asyncio.CancelledError:
        if not expired or task.uncancel():
            raise
        call.cancelled = DEADLINE_EXCEEDED
        raise DeadlineExceeded(
            f"model {model!r} did not answer within the request's timeout of {seconds * 1e3:g} ms"
        ) from None
    finally:
        timer.cancel()


def _expire(task: asyncio.Task[Any], expired: list[bool]) -> None:
    expired.append(True)
    task.cancel()
