"""How a loaded pipeline is called: the DataPlane calls it as it calls a model version's plan,
with the request's payload and context; each step goes through the in-process client, and
the tensors go to the inspection buffer when it is on."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any

from app.client.interface import InferenceClient
from app.context import RequestContext
from app.pipelines.executor import Run
from app.pipelines.inspection import Inspection
from app.pipelines.joins import Recorder, Tensor
from app.pipelines.spec import INPUTS, OUTPUTS, PipelineSpec
from app.protocol.codecs.datatypes import from_dtype, parse_datatype
from app.protocol.errors import InvalidInput
from app.protocol.payload import Answer, Output, Payload


class PipelinePlan:
    """Calls one loaded pipeline: its steps through `client`, each request's tensors to
    `record` (the inspection buffer) when given."""

    def __init__(
        self, spec: PipelineSpec, client: InferenceClient, inspection: Inspection | None = None
    ) -> None:
        self.spec = spec
        self.client = client
        self.inspection = inspection if inspection is not None and inspection.limit else None

    async def __call__(self, payload: Payload, context: RequestContext) -> Answer:
        inputs = [
            Tensor(name, str(from_dtype(array.dtype)), list(array.shape), array)
            for name, array in payload.inputs.items()
        ]
        name = self.spec.name
        record: Recorder | None = None
        if self.inspection is not None and context.id is not None:
            record = functools.partial(self.inspection.record, name, context.id)
            record(name, INPUTS, inputs)
        if context.steps is not None:
            record = _reporting(name, context.steps, record)
        context.infer_started = time.perf_counter_ns()
        tensors = await Run(self.spec, self.client, inputs, record).answer()
        context.infer_ended = time.perf_counter_ns()
        if record is not None:
            record(name, OUTPUTS, tensors)
        outputs = _outputs(tensors)
        if payload.outputs:
            outputs = _requested(self.spec.name, outputs, [o.name for o in payload.outputs])
        return Answer(self.spec.name, outputs, None, context.id)


def _outputs(tensors: list[Tensor]) -> list[Output]:
    return [
        Output(t.name, parse_datatype(t.datatype, f"output {t.name!r}"), t.shape, t.data)
        for t in tensors
    ]


def _reporting(
    pipeline: str, report: Callable[[str, Any], None], record: Recorder | None
) -> Recorder:
    """A recorder that gives `report` each step's answer, then calls `record`."""

    def recorder(step: str, side: str, tensors: list[Tensor]) -> None:
        if side == OUTPUTS and step != pipeline:
            report(step, Answer(step, _outputs(tensors), None, None))
        if record is not None:
            record(step, side, tensors)

    return recorder


def _requested(pipeline: str, outputs: list[Output], wanted: list[str]) -> list[Output]:
    """The requested outputs, in the requested order."""
    found = {output.name: output for output in outputs}
    unknown = [name for name in wanted if name not in found]
    if unknown:
        raise InvalidInput(
            f"requested output {unknown[0]!r} is not an output of pipeline {pipeline!r}; "
            f"outputs: {', '.join(map(repr, found))}"
        )
    return [found[name] for name in wanted]
