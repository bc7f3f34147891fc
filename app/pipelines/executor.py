"""One request through a pipeline.

Each step is called through an InferenceClient as soon as its join is satisfied, and steps
whose inputs are ready run concurrently. Joins are decided exactly, never by a clock: a
reference is present once its step has answered (or, for `<step>.inputs`, started), and a
step is settled when it is not running and can no longer run. So `inner` fires when all its
references are present, `any` on the first, `outer` once every upstream is settled, with what
arrived; a join that can no longer be satisfied does not fire, and its step counts as settled
with nothing. The request fails at once when the output join can no longer be satisfied.
`joinWindowMs` bounds how long a join may wait after its first reference arrived.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine, Iterable
from enum import Enum
from typing import Any, NamedTuple

import numpy as np

from app.client.interface import InferenceClient
from app.client.tensors import InferInput, InferRequest
from app.pipelines.spec import INPUTS, OUTPUT, OUTPUTS, Join, PipelineSpec, Reference
from app.protocol.errors import DeadlineExceeded, InvalidInput, OIPError, PredictorError

log = logging.getLogger("oipserve.pipelines")


class Tensor(NamedTuple):
    name: str
    datatype: str
    shape: list[int]
    data: np.ndarray


class Status(Enum):
    READY = "ready"
    WAIT = "wait"
    NEVER = "never"


Call = Coroutine[Any, Any, list[Tensor]] | asyncio.Future[list[Tensor]]
"""A started step's call, awaited alone or run as a task beside others."""
Recorder = Callable[[str, str, list[Tensor]], None]
"""Called with a step's name, INPUTS or OUTPUTS and its tensors (for inspection)."""
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
        self.record = record
        source = (pipeline.name, INPUTS)
        self.values: dict[tuple[str, str], list[Tensor]] = {source: inputs}
        self.generation: dict[tuple[str, str], int] = {source: 1}
        """How many times each step's inputs or outputs were set (reruns in cycles)."""
        self.consumed: dict[str, dict[tuple[str, str], int]] = {}
        """The generations each step (and the output) last ran with."""
        self.runs: dict[str, int] = {}
        self.running: dict[Call, str] = {}
        """The steps started and not yet answered, by their call: a coroutine until it must
        run beside others (then a task), so that a step running alone costs no task."""
        self.waiting_since: dict[str, float] = {}
        self.deferred: set[str] = set()
        """Steps whose joins could change while they ran."""

    async def answer(self) -> list[Tensor]:
        """The output join's tensors, once it is satisfied."""
        changed: Iterable[str] = self.pipeline.readers[self.pipeline.name]
        try:
            while True:
                self._start_ready_steps(changed)
                status, tensors = self._evaluate(OUTPUT, set())
                if status is Status.READY:
                    return tensors
                if status is Status.NEVER or not self.running:
                    raise self._unsatisfied()
                changed = await self._next_answers()
        except BaseException:
            for call in self.running:
                call.cancel() if isinstance(call, asyncio.Future) else call.close()
            self.running.clear()
            raise
        finally:
            for call in self.running:  # answered: what still runs finishes on its own
                task = asyncio.ensure_future(call)
                _BACKGROUND.add(task)
                task.add_done_callback(_finished_in_background)

    def _start_ready_steps(self, candidates: Iterable[str]) -> None:
        """Start the `candidates` whose joins fire, then the steps that take the inputs of
        those that started, until none starts."""
        while candidates:
            started = []
            for name in candidates:
                if name in self.running.values():
                    self.deferred.add(name)  # looked at again once it answers
                    continue
                status, tensors = self._evaluate(name, set(), exact=False)
                if status is Status.READY:
                    self._start(name, tensors)
                    started.append(name)
            candidates = self._after(started, self.pipeline.watchers)

    def _after(self, steps: list[str], table: dict[str, tuple[str, ...]]) -> tuple[str, ...]:
        """The steps `table` (watchers or woken) gives for `steps`, in the manifest's order."""
        if len(steps) == 1:
            return table[steps[0]]
        later = {after for step in steps for after in table[step]}
        return tuple(name for name in self.pipeline.steps if name in later)

    def _start(self, name: str, tensors: list[Tensor]) -> None:
        runs = self.runs[name] = self.runs.get(name, 0) + 1
        if runs > 1 + self.pipeline.max_step_revisits:
            raise PredictorError(
                f"pipeline {self.pipeline.name!r} step {name!r} would run {runs} times for one "
                f"request (maxStepRevisits {self.pipeline.max_step_revisits})"
            )
        step = self.pipeline.steps[name]
        self.consumed[name] = {
            (ref.source, ref.side): self.generation.get((ref.source, ref.side), 0)
            for ref in step.inputs
        }
        self._set(name, INPUTS, tensors)
        self.waiting_since.pop(name, None)
        self.running[self._call(name, tensors)] = name

    def _set(self, name: str, side: str, tensors: list[Tensor]) -> None:
        self.values[(name, side)] = tensors
        self.generation[(name, side)] = self.generation.get((name, side), 0) + 1
        if self.record is not None:
            self.record(name, side, tensors)

    async def _call(self, name: str, tensors: list[Tensor]) -> list[Tensor]:
        """The step's model's outputs for `tensors`; its errors name the step."""
        inputs = [_input(tensor) for tensor in tensors]
        try:
            answer = await self.client.infer(InferRequest(name, inputs))
        except OIPError as error:
            what = f"pipeline {self.pipeline.name!r} step {name!r} (model {name!r})"
            failure = type(error)(f"{what}: {error.message}")
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
            self._set(name, OUTPUTS, tensors)
            answered = [name]
        else:
            answered = await self._first_answers(timeout)
        woken = self._after(answered, self.pipeline.woken)
        again = self.deferred.intersection(answered)
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
            self._set(name, OUTPUTS, task.result())
            answered.append(name)
        return answered

    def _window_left(self) -> float | None:
        """Seconds until the first join window of a waiting join closes (None: none)."""
        if not self.pipeline.windows:
            return None
        now = time.monotonic()
        ends = []
        for name, window in self._windows():
            status, _ = self._evaluate(name, set())
            if status is Status.WAIT and self._arrived(name):
                since = self.waiting_since.setdefault(name, now)
                ends.append(since + window / 1000)
        return max(0.0, min(ends) - now) if ends else None

    def _windows(self) -> list[tuple[str, int]]:
        """The join windows of the output and of the steps not running."""
        running = self.running.values()
        return [(name, ms) for name, ms in self.pipeline.windows if name not in running]

    def _window_passed(self) -> DeadlineExceeded:
        now = time.monotonic()
        late = [
            name
            for name, window in self._windows()
            if name in self.waiting_since and now >= self.waiting_since[name] + window / 1000
        ]
        where = "the output" if not late or late[0] == OUTPUT else f"step {late[0]!r}"
        return DeadlineExceeded(
            f"pipeline {self.pipeline.name!r}: {where} waited past its joinWindowMs for "
            f"{', '.join(map(str, self._missing(late[0] if late else OUTPUT)))}"
        )

    def _arrived(self, name: str) -> bool:
        return any(self._has(ref) for ref in self._inputs_of(name))

    def _inputs_of(self, name: str) -> tuple[Reference, ...]:
        if name == OUTPUT:
            return self.pipeline.output.steps
        return self.pipeline.steps[name].inputs

    def _evaluate(
        self, name: str, seen: set[str], exact: bool = True
    ) -> tuple[Status, list[Tensor]]:
        """Whether the join of step `name` (or of the output) fires now, and its tensors.
        Unless `exact`, a join that does not fire is WAIT without asking whether it ever can
        (what starting steps needs: the answer is the same, the upstream walk is spared)."""
        if name in self.running.values():
            return Status.WAIT, []
        output = self.pipeline.output
        step = None if name == OUTPUT else self.pipeline.steps[name]
        if step is None:
            refs, join = output.steps, output.steps_join
        else:
            refs, join = step.inputs, step.inputs_join
        status, present = self._join(name, refs, join, seen, True, exact)
        if status is Status.READY and step is not None and step.triggers:
            joined = self._join(name, step.triggers, step.triggers_join, seen, False, exact)
            status = joined[0]
        if status is not Status.READY:
            return status, []
        renames = output.tensor_map if step is None else step.tensor_map
        tensors = self._gather(present, renames)
        return (Status.READY, tensors) if tensors else (Status.NEVER, [])

    def _join(
        self,
        name: str,
        refs: tuple[Reference, ...],
        join: Join,
        seen: set[str],
        fresh: bool,
        exact: bool,
    ) -> tuple[Status, list[Reference]]:
        present = [ref for ref in refs if self._has(ref)]
        ran = self.consumed.get(name) if fresh else None  # None: all that is present is new
        if join is Join.ANY:  # what arrived since the step last ran, as Seldon's `any`
            arrived = present if ran is None else [r for r in present if self._new(ran, r)]
            if arrived:
                return Status.READY, arrived
        else:
            new = bool(present) if ran is None else any(self._new(ran, r) for r in present)
            if join is Join.INNER and new and len(present) == len(refs):
                return Status.READY, present
            if join is Join.OUTER and new and present and self._all_settled(refs, seen):
                return Status.READY, present
        if not exact:
            return Status.WAIT, present
        missing = [ref for ref in refs if ref not in present] if join is Join.INNER else []
        if missing:  # never, once the step of a missing reference is settled
            never = any(self._settled(ref.source, seen) for ref in missing)
        else:
            never = self._all_settled(refs, seen)
        return (Status.NEVER if never else Status.WAIT), present

    def _all_settled(self, refs: tuple[Reference, ...], seen: set[str]) -> bool:
        return all(self._settled(ref.source, seen) for ref in refs)

    def _has(self, ref: Reference) -> bool:
        tensors = self.values.get((ref.source, ref.side))
        if not tensors:
            return False
        return ref.tensor is None or any(t.name == ref.tensor for t in tensors)

    def _new(self, ran: dict[tuple[str, str], int], ref: Reference) -> bool:
        """Whether `ref`'s tensors were set since the step ran with generations `ran`."""
        key = (ref.source, ref.side)
        return self.generation.get(key, 0) > ran.get(key, 0)

    def _settled(self, source: str, seen: set[str]) -> bool:
        """Whether step `source` can no longer give new tensors for this request."""
        if source == self.pipeline.name or source in seen:
            return True
        running = self.running.values()
        if source in running:
            return False
        if not seen and any(source in self.pipeline.downstream[step] for step in running):
            return False  # what the walk below would find, found at once
        seen = seen | {source}
        if self._evaluate(source, seen, exact=False)[0] is Status.READY:
            return False
        return all(self._settled(before, seen) for before in self.pipeline.steps[source].upstream)

    def _gather(self, refs: list[Reference], renames: dict[str, str]) -> list[Tensor]:
        tensors = []
        for ref in refs:
            for tensor in self.values[(ref.source, ref.side)]:
                if ref.tensor is None or tensor.name == ref.tensor:
                    renamed = (
                        renames.get(f"{ref.source}.{ref.side}.{tensor.name}") if renames else None
                    )
                    tensors.append(tensor if renamed is None else tensor._replace(name=renamed))
        return tensors

    def _missing(self, name: str) -> list[Reference]:
        return [ref for ref in self._inputs_of(name) if not self._has(ref)]

    def _unsatisfied(self) -> InvalidInput:
        output = self.pipeline.output
        missing = ", ".join(map(str, self._missing(OUTPUT)))
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
