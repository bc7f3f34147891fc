"""One request through a pipeline.

Each step is called through an InferenceClient as soon as its join fires (app.pipelines.joins
decides, exactly), and steps whose inputs are ready run concurrently. The request fails at once
when the output join can no longer be satisfied. `joinWindowMs` bounds how long a join may
wait after its first reference arrived.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Coroutine, Iterable
from typing import Any

from app.client.interface import InferenceClient
from app.client.tensors import InferInput, InferRequest
from app.pipelines.joins import Joins, Recorder, Status, Tensor
from app.pipelines.spec import OUTPUT, OUTPUTS, PipelineSpec
from app.protocol.errors import (
    DeadlineExceeded,
    InvalidInput,
    ModelNotFound,
    ModelNotReady,
    OIPError,
    PredictorError,
)

log = logging.getLogger("oipserve.pipelines")

Call = Coroutine[Any, Any, list[Tensor]] | asyncio.Future[list[Tensor]]
"""A started step's call, awaited alone or run as a task beside others."""
_BACKGROUND: set[asyncio.Task[list[Tensor]]] = set()
"""Steps still running when their request was answered: they finish on their own."""


class Run:
    """The state of one request in one pipeline."""

    def __init__(
        self,
        pipeline: PipelineSpec,
        client: InferenceClient,
        inputs: list[Tensor],
        record: Recorder | None = None,
    ) -> None:
        self.pipeline = pipeline
        self.client = client
        self.runs: dict[str, int] = {}
        self.running: dict[Call, str] = {}
        """The steps started and not yet answered, by their call: a coroutine until it must
        run beside others (then a task), so that a step running alone costs no task."""
        self.active: set[str] = set()
        """The names of the steps in `running`."""
        self.joins = Joins(pipeline, inputs, self.active, record)
        self.waiting_since: dict[str, float] = {}
        self.deferred: set[str] = set()
        """Steps whose joins could change while they ran."""

    async def answer(self) -> list[Tensor]:
        """The output join's tensors, once it is satisfied."""
        if self.pipeline.sequential:
            return await self._in_sequence()
        changed: Iterable[str] = self.pipeline.readers[self.pipeline.name]
        try:
            while True:
                self._start_ready_steps(changed)
                status, tensors = self.joins.evaluate(OUTPUT)
                if status is Status.READY:
                    return tensors
                if status is Status.NEVER or not self.running:
                    raise self._unsatisfied()
                changed = await self._next_answers()
        except BaseException:
            for call in self.running:
                call.cancel() if isinstance(call, asyncio.Future) else call.close()
            self.running.clear()
            self.active.clear()
            raise
        finally:
            for call in self.running:  # answered: what still runs finishes on its own
                task = asyncio.ensure_future(call)
                _BACKGROUND.add(task)
                task.add_done_callback(_finished_in_background)

    async def _in_sequence(self) -> list[Tensor]:
        """What the loop of `answer` does for a sequential pipeline, without its scheduling:
        each step's join, evaluated once the step before has answered, is then final."""
        for name in self.pipeline.steps:
            status, tensors = self.joins.evaluate(name, exact=False)
            if status is not Status.READY:  # it never runs, nor do the steps after it
                raise self._unsatisfied()
            self.joins.start(name, tensors)
            self.joins.set(name, OUTPUTS, await self._call(name, tensors))
        status, tensors = self.joins.evaluate(OUTPUT, exact=False)
        if status is not Status.READY:
            raise self._unsatisfied()
        return tensors

    def _start_ready_steps(self, candidates: Iterable[str]) -> None:
        """Start the `candidates` whose joins fire, then the steps that take the inputs of
        those that started, until none starts."""
        while candidates:
            started = []
            for name in candidates:
                if name in self.active:
                    self.deferred.add(name)  # looked at again once it answers
                    continue
                status, tensors = self.joins.evaluate(name, exact=False)
                if status is Status.READY:
                    self._start(name, tensors)
                    started.append(name)
            candidates = self._after(started, self.pipeline.watchers)

    def _after(self, steps: list[str], table: dict[str, tuple[str, ...]]) -> tuple[str, ...]:
        """The steps `table` (watchers or woken) gives for `steps`, in the manifest's order."""
        if len(steps) == 1:
            return table[steps[0]]
        if not steps:
            return ()
        later = {after for step in steps for after in table[step]}
        return tuple(name for name in self.pipeline.steps if name in later)

    def _start(self, name: str, tensors: list[Tensor]) -> None:
        runs = self.runs[name] = self.runs.get(name, 0) + 1
        if runs > 1 + self.pipeline.max_step_revisits:
            raise PredictorError(
                f"pipeline {self.pipeline.name!r} step {name!r} would run {runs} times for one "
                f"request (maxStepRevisits {self.pipeline.max_step_revisits})"
            )
        self.joins.start(name, tensors)
        self.waiting_since.pop(name, None)
        self.running[self._call(name, tensors)] = name
        self.active.add(name)

    async def _call(self, name: str, tensors: list[Tensor]) -> list[Tensor]:
        """The step's model's outputs for `tensors`; its errors name the step."""
        inputs = [_input(tensor) for tensor in tensors]
        try:
            answer = await self.client.infer(InferRequest(name, inputs))
        except OIPError as error:
            what = f"pipeline {self.pipeline.name!r} step {name!r} (model {name!r})"
            # a step's model gone since the request came: the pipeline is not ready (503)
            kind = ModelNotReady if type(error) is ModelNotFound else type(error)
            failure = kind(f"{what}: {error.message}")
            failure.source = error.source or name
            raise failure from error
        return [Tensor(o.name, o.datatype, o.shape, o.as_numpy()) for o in answer.outputs]

    async def _next_answers(self) -> tuple[str, ...]:
        """Wait for running steps to answer (at most until a join window closes); the steps
        whose joins their answers can change: their own (in a cycle) and the steps after."""
        timeout = self._window_left()
        if len(self.running) == 1 and timeout is None:  # alone: awaited where it is
            ((call, name),) = self.running.items()
            try:
                tensors = await call
            finally:
                del self.running[call]
                self.active.discard(name)
            self.joins.set(name, OUTPUTS, tensors)
            answered = [name]
        else:
            answered = await self._first_answers(timeout)
        woken = self._after(answered, self.pipeline.woken)
        again = self.deferred.intersection(answered) if self.deferred else None
        if not again:
            return woken
        self.deferred -= again
        return tuple(name for name in self.pipeline.steps if name in again or name in woken)

    async def _first_answers(self, seconds: float | None) -> list[str]:
        """The steps that answer first, side by side as tasks (waiting at most `seconds`)."""
        tasks = {asyncio.ensure_future(call): name for call, name in self.running.items()}
        self.running = dict(tasks.items())
        done, _ = await asyncio.wait(tasks, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        if not done:
            raise self._window_passed()
        answered = []
        for task in done:
            name = self.running.pop(task)
            self.active.discard(name)
            self.joins.set(name, OUTPUTS, task.result())
            answered.append(name)
        return answered

    def _window_left(self) -> float | None:
        """Seconds until the first join window of a waiting join closes (None: none)."""
        if not self.pipeline.windows:
            return None
        now = time.monotonic()
        ends = []
        for name, window in self._windows():
            status, _ = self.joins.evaluate(name)
            if status is Status.WAIT and self.joins.arrived(name):
                since = self.waiting_since.setdefault(name, now)
                ends.append(since + window / 1000)
        return max(0.0, min(ends) - now) if ends else None

    def _windows(self) -> list[tuple[str, int]]:
        """The join windows of the output and of the steps not running."""
        return [(name, ms) for name, ms in self.pipeline.windows if name not in self.active]

    def _window_passed(self) -> DeadlineExceeded:
        now = time.monotonic()
        late = [
            name
            for name, window in self._windows()
            if name in self.waiting_since and now >= self.waiting_since[name] + window / 1000
        ]
        where = "the output" if not late or late[0] == OUTPUT else f"step {late[0]!r}"
        missing = self.joins.missing(late[0] if late else OUTPUT)
        return DeadlineExceeded(
            f"pipeline {self.pipeline.name!r}: {where} waited past its joinWindowMs for "
            f"{', '.join(map(str, missing))}"
        )

    def _unsatisfied(self) -> InvalidInput:
        output = self.pipeline.output
        missing = ", ".join(map(str, self.joins.missing(OUTPUT)))
        return InvalidInput(
            f"pipeline {self.pipeline.name!r}: join unsatisfied: the output "
            f"({output.steps_join} join) misses {missing or 'tensors'}"
        )


def _input(tensor: Tensor) -> InferInput:
    """The step input holding `tensor`'s array as it is (a request's or a step's answer's,
    checked already)."""
    found = InferInput.of_array(tensor.name, tensor.data)
    return found or InferInput(tensor.name, tensor.shape, tensor.datatype, tensor.data)


def _finished_in_background(task: asyncio.Task[list[Tensor]]) -> None:
    _BACKGROUND.discard(task)
    if not task.cancelled() and task.exception() is not None:
        log.error("a pipeline step answered after its request: %s", task.exception())
