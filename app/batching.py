"""Adaptive batching in front of one model version's `predict`.

Requests whose inputs agree in names, datatypes and every dimension but the first join one
batch: their arrays are concatenated along dimension 0, the model runs once, and each caller
gets back exactly its rows. A batch runs when it holds `max_size` rows, or `max_time` seconds
after its first request was queued, whichever comes first; requests of another shape queue in
a batch of their own. A caller that goes away before its batch runs is left out of it; a
failing model call fails the requests of that batch (the requests a model refuses are refused
before they queue).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import numpy as np

from app.predictors.base import MODEL_FAILURES
from app.protocol.errors import PredictorError
from app.protocol.payload import Tensors

Key = tuple[tuple[str, str, tuple[int, ...]], ...]
"""What requests must share to join: each input's name, dtype and shape past dimension 0."""
Predict = Callable[[Tensors], Awaitable[object]]


@dataclass(eq=False)
class Ticket:
    """One request in a batch: its inputs, its rows, when it was queued, its answer."""

    inputs: Tensors
    rows: int
    queued: int = field(default_factory=time.perf_counter_ns)
    answer: asyncio.Future[Tensors] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )
    started: int = 0
    """When its batch started running (perf_counter_ns)."""
    size: int = 1
    """The rows of its batch."""


@dataclass(eq=False)
class _Batch:
    tickets: list[Ticket] = field(default_factory=list)
    rows: int = 0
    timer: asyncio.TimerHandle | None = None


Executed = Callable[[int, int], None]
"""Called with a batch's rows and the nanoseconds the model took, once per batch."""


class Batcher:
    """Joins the requests of one model version; `predict` runs each batch."""

    def __init__(
        self,
        name: str,
        predict: Predict,
        max_size: int,
        max_time: float,
        executed: Executed | None = None,
    ) -> None:
        self.name = name
        self.predict = predict
        self.max_size = max_size
        self.max_time = max_time
        self.executed = executed
        self._pending: dict[Key, _Batch] = {}
        self._running: set[asyncio.Task[None]] = set()

    def key_of(self, inputs: Tensors) -> tuple[Key, int] | None:
        """What `inputs` must share with others to join them, and their rows; None for
        inputs that cannot join any (no inputs, a scalar, or inputs of different rows, or
        more rows than a batch holds)."""
        key = []
        rows = None
        for name, array in inputs.items():
            if array.ndim == 0 or (rows is not None and array.shape[0] != rows):
                return None
            rows = array.shape[0]
            key.append((name, array.dtype.str, array.shape[1:]))
        if rows is None or not 0 < rows <= self.max_size:
            return None
        return tuple(key), rows

    async def submit(self, inputs: Tensors, key: Key, rows: int) -> Ticket:
        """Queue `inputs` (of `key` and `rows`, from `key_of`); the ticket, once its batch
        has run, with its rows of the outputs as its answer."""
        ticket = Ticket(inputs, rows)
        batch = self._pending.get(key)
        if batch is not None and batch.rows + rows > self.max_size:
            self._run(key)
            batch = None
        if batch is None:
            batch = self._pending[key] = _Batch()
            loop = asyncio.get_running_loop()
            batch.timer = loop.call_later(self.max_time, self._run, key, batch)
        batch.tickets.append(ticket)
        batch.rows += rows
        if batch.rows >= self.max_size:
            self._run(key)
        await ticket.answer
        return ticket

    def _run(self, key: Key, expected: _Batch | None = None) -> None:
        """Start the pending batch of `key` (if it is still `expected`, for its timer)."""
        batch = self._pending.get(key)
        if batch is None or (expected is not None and batch is not expected):
            return
        del self._pending[key]
        if batch.timer is not None:
            batch.timer.cancel()
        task = asyncio.get_running_loop().create_task(self._execute(batch))
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    async def _execute(self, batch: _Batch) -> None:
        tickets = [ticket for ticket in batch.tickets if not ticket.answer.done()]
        if not tickets:
            return  # every caller went away
        rows = sum(ticket.rows for ticket in tickets)
        started = time.perf_counter_ns()
        for ticket in tickets:
            ticket.started, ticket.size = started, rows
        try:
            outputs = await self.predict(_joined([ticket.inputs for ticket in tickets]))
            if not isinstance(outputs, dict):
                raise PredictorError(
                    f"model {self.name!r}: predict must return a dict of arrays, "
                    f"got {type(outputs).__name__}"
                )
            parts = _split(self.name, outputs, [ticket.rows for ticket in tickets])
        except BaseException as error:
            for ticket in tickets:
                if not ticket.answer.done():
                    ticket.answer.set_exception(error)
            if not isinstance(error, MODEL_FAILURES):
                raise  # cancelled
            return
        if self.executed is not None:
            self.executed(rows, time.perf_counter_ns() - started)
        for ticket, part in zip(tickets, parts, strict=True):
            if not ticket.answer.done():
                ticket.answer.set_result(part)


def _joined(inputs: list[Tensors]) -> Tensors:
    if len(inputs) == 1:
        return inputs[0]
    return {name: np.concatenate([each[name] for each in inputs]) for name in inputs[0]}


def _split(name: str, outputs: dict[str, object], rows: list[int]) -> list[Tensors]:
    """Each caller's rows of each output; PredictorError for an output that does not have
    one row per input row."""
    total = sum(rows)
    offsets = np.cumsum(rows)[:-1]
    parts: list[Tensors] = [{} for _ in rows]
    for output, array in outputs.items():
        if not isinstance(array, np.ndarray) or array.ndim == 0 or array.shape[0] != total:
            shape = list(array.shape) if isinstance(array, np.ndarray) else type(array).__name__
            raise PredictorError(
                f"model {name!r} batches, but its output {output!r} ({shape}) does not have "
                f"one row per input row ({total})"
            )
        for part, piece in zip(parts, np.split(array, offsets), strict=True):
            part[output] = piece
    return parts
