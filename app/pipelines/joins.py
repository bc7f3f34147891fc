"""The joins of one request through a pipeline, decided exactly, never by a clock.

A reference is present once its step has answered (or, for `<step>.inputs`, started), and a
step is settled when it is not running and can no longer run. So `inner` fires when all its
references are present, `any` on the first, `outer` once every upstream is settled, with what
arrived; a join that can no longer be satisfied never fires, and its step counts as settled
with nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from enum import Enum
from typing import NamedTuple

import numpy as np

from app.pipelines.spec import INPUTS, OUTPUT, Join, PipelineSpec, Reference


class Tensor(NamedTuple):
    name: str
    datatype: str
    shape: list[int]
    data: np.ndarray


class Status(Enum):
    READY = "ready"
    WAIT = "wait"
    NEVER = "never"


Recorder = Callable[[str, str, list[Tensor]], None]
"""Called with a step's name, INPUTS or OUTPUTS and its tensors (for inspection)."""
Key = tuple[str, str]
"""A step (or the pipeline) and a side: INPUTS or OUTPUTS."""


class Joins:
    """What the pipeline's inputs and steps gave in one request, and the joins it satisfies.
    `running` holds the names of the steps running now (the Run keeps it)."""

    def __init__(
        self,
        pipeline: PipelineSpec,
        inputs: list[Tensor],
        running: Collection[str],
        record: Recorder | None = None,
    ) -> None:
        self.pipeline = pipeline
        self.running = running
        self.record = record
        source = (pipeline.name, INPUTS)
        self.values: dict[Key, list[Tensor]] = {source: inputs}
        self.generation: dict[Key, int] = {source: 1}
        """How many times each step's inputs or outputs were set (reruns in cycles)."""
        self.consumed: dict[str, dict[Key, int]] = {}
        """The generations each step last ran with."""

    def set(self, name: str, side: str, tensors: list[Tensor]) -> None:
        """Step `name`'s inputs (as it starts) or outputs (as it answers) are `tensors`."""
        self.values[(name, side)] = tensors
        self.generation[(name, side)] = self.generation.get((name, side), 0) + 1
        if self.record is not None:
            self.record(name, side, tensors)

    def start(self, name: str, tensors: list[Tensor]) -> None:
        """Step `name` starts with `tensors`, consuming what its inputs reference now."""
        generation = self.generation
        self.consumed[name] = {
            (ref.source, ref.side): generation.get((ref.source, ref.side), 0)
            for ref in self.pipeline.steps[name].inputs
        }
        self.set(name, INPUTS, tensors)

    def evaluate(
        self, name: str, seen: frozenset[str] = frozenset(), exact: bool = True
    ) -> tuple[Status, list[Tensor]]:
        """Whether the join of step `name` (or of the output) fires now, and its tensors.
        Unless `exact`, a join that does not fire is WAIT without asking whether it ever can
        (what starting steps needs: the answer is the same, the upstream walk is spared)."""
        if name in self.running:
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

    def arrived(self, name: str) -> bool:
        """Whether any reference of the join of `name` is present."""
        return any(self._has(ref) for ref in self._inputs_of(name))

    def missing(self, name: str) -> list[Reference]:
        """The references of the join of `name` not present."""
        return [ref for ref in self._inputs_of(name) if not self._has(ref)]

    def _inputs_of(self, name: str) -> tuple[Reference, ...]:
        if name == OUTPUT:
            return self.pipeline.output.steps
        return self.pipeline.steps[name].inputs

    def _join(
        self,
        name: str,
        refs: tuple[Reference, ...],
        join: Join,
        seen: frozenset[str],
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

    def _all_settled(self, refs: tuple[Reference, ...], seen: frozenset[str]) -> bool:
        return all(self._settled(ref.source, seen) for ref in refs)

    def _has(self, ref: Reference) -> bool:
        tensors = self.values.get((ref.source, ref.side))
        if not tensors:
            return False
        return ref.tensor is None or any(t.name == ref.tensor for t in tensors)

    def _new(self, ran: dict[Key, int], ref: Reference) -> bool:
        """Whether `ref`'s tensors were set since the step ran with generations `ran`."""
        key = (ref.source, ref.side)
        return self.generation.get(key, 0) > ran.get(key, 0)

    def _settled(self, source: str, seen: frozenset[str]) -> bool:
        """Whether step `source` can no longer give new tensors for this request."""
        if source == self.pipeline.name or source in seen:
            return True
        running = self.running
        if source in running:
            return False
        downstream = self.pipeline.downstream
        if not seen and any(source in downstream[step] for step in running):
            return False  # what the walk below would find, found at once
        seen = seen | {source}
        if self.evaluate(source, seen, exact=False)[0] is Status.READY:
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
                    tensors.append(tensor if renamed is None else Tensor(renamed, *tensor[1:]))
        return tensors
