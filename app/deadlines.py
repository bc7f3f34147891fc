"""A request's deadline: the front's (a gRPC deadline, or the caller's for an in-process
request), tightened by the request's `timeout` parameter; and `within`, which cancels the
servable's call when it passes."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable
from typing import Any, TypeVar

from app.protocol.errors import DeadlineExceeded, InvalidInput
from app.protocol.types import Parameters

TIMEOUT = "timeout"
"""The request parameter that bounds a request's time, in microseconds (as in Triton)."""
Result = TypeVar("Result")


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


def tightened(deadline: float | None, seconds: float | None) -> float | None:
    """The earlier of `deadline` (time.monotonic() seconds) and `seconds` from now; None
    stands for no deadline."""
    if seconds is None:
        return deadline
    own = time.monotonic() + seconds
    return own if deadline is None else min(deadline, own)


async def within(awaitable: Awaitable[Result], deadline: float, what: str) -> Result:
    """Await `awaitable`, cancelling it at `deadline`: DeadlineExceeded naming `what` then."""
    task = asyncio.current_task()
    assert task is not None
    expired: list[bool] = []
    seconds = deadline - time.monotonic()
    timer = asyncio.get_running_loop().call_later(seconds, _expire, task, expired)
    try:
        return await awaitable
    except asyncio.CancelledError:
        if not expired or task.uncancel():
            raise
        raise DeadlineExceeded(
            f"{what} did not answer within the request's deadline ({max(seconds, 0) * 1e3:.0f} ms)"
        ) from None
    finally:
        timer.cancel()


def _expire(task: asyncio.Task[Any], expired: list[bool]) -> None:
    expired.append(True)
    task.cancel()
