"""What Seldon's `seldon pipeline inspect` reads from Kafka, kept in memory instead: the
tensors each step of a pipeline was sent and answered (and the pipeline's own inputs and
outputs) for the last N requests, by pipeline and request id. Off unless N > 0."""

from __future__ import annotations

from collections import OrderedDict

from app.pipelines.joins import Tensor
from app.protocol.errors import NotFound
from app.protocol.types import InspectedRequest, InspectedTensor

Record = dict[str, dict[str, list[Tensor]]]
"""A request's tensors: by step (or the pipeline's name), then by INPUTS or OUTPUTS."""


class Inspection:
    """The step tensors of the last `limit` pipeline requests."""

    def __init__(self, limit: int = 0) -> None:
        self.limit = limit
        self._requests: OrderedDict[tuple[str, str], Record] = OrderedDict()

    def record(
        self, pipeline: str, request_id: str, step: str, side: str, tensors: list[Tensor]
    ) -> None:
        """Keep the tensors `step` (or the pipeline) was sent or answered in a request."""
        key = (pipeline, request_id)
        found = self._requests.get(key)
        if found is None:
            found = self._requests[key] = {}
            while len(self._requests) > self.limit:
                self._requests.popitem(last=False)
        found.setdefault(step, {})[side] = tensors

    def find(self, pipeline: str, request_id: str) -> InspectedRequest:
        """The request's tensors; NotFound if none are kept."""
        found = self._requests.get((pipeline, request_id))
        if found is None:
            why = "" if self.limit else " (the server keeps none: --inspect-requests N)"
            raise NotFound(f"pipeline {pipeline!r} has no request {request_id!r} to inspect{why}")
        steps = {step: _sides(sides) for step, sides in found.items()}
        return InspectedRequest(pipeline=pipeline, id=request_id, steps=steps)


def _sides(sides: dict[str, list[Tensor]]) -> dict[str, list[InspectedTensor]]:
    return {
        side: [InspectedTensor.of(*tensor) for tensor in tensors] for side, tensors in sides.items()
    }
