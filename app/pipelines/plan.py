"""How a loaded pipeline is called: the DataPlane calls it as it calls a model version's plan,
with the request's payload and context; each step goes through the in-process client."""

from __future__ import annotations

from app.client.interface import InferenceClient
from app.context import RequestContext
from app.pipelines.executor import Recorder, Run, Tensor
from app.pipelines.spec import PipelineSpec
from app.protocol.codecs.datatypes import from_dtype, parse_datatype
from app.protocol.errors import InvalidInput
from app.protocol.payload import Answer, Output, Payload


class PipelinePlan:
    """Calls one loaded pipeline: its steps through `client`, each request's tensors to
    `record` (the inspection buffer) when given."""

    def __init__(
        self, spec: PipelineSpec, client: InferenceClient, record: Recorder | None = None
    ) -> None:
        self.spec = spec
        self.client = client
        self.record = record

    async def __call__(self, payload: Payload, context: RequestContext) -> Answer:
        inputs = [
            Tensor(name, str(from_dtype(array.dtype)), list(array.shape), array)
            for name, array in payload.inputs.items()
        ]
        tensors = await Run(self.spec, self.client, inputs, self.record).answer()
        outputs = [
            Output(t.name, parse_datatype(t.datatype, f"output {t.name!r}"), t.shape, t.data)
            for t in tensors
        ]
        if payload.outputs:
            outputs = _requested(self.spec.name, outputs, [o.name for o in payload.outputs])
        return Answer(self.spec.name, outputs, None, context.id)


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
