"""A model's declared signature, and the checks of requests and responses against it."""

from __future__ import annotations

from collections.abc import Sequence

from app.predictors.base import Tensors, declared
from app.protocol.codecs.datatypes import from_dtype
from app.protocol.errors import InvalidInput, PredictorError
from app.protocol.types import (
    InferenceRequest,
    InferenceResponse,
    MetadataTensor,
    ModelMetadataResponse,
    RequestInput,
    RequestOutput,
    ResponseOutput,
)


class Signature:
    """The declared inputs and outputs of one loaded model version, by name, read once from
    its metadata; each request is checked against them."""

    __slots__ = ("_shapes", "inputs", "metadata", "outputs")

    def __init__(self, metadata: ModelMetadataResponse) -> None:
        self.metadata = metadata
        self.inputs = declared(metadata.inputs)
        self.outputs = declared(metadata.outputs)
        self._shapes = {name: _shape_rule(spec.shape) for name, spec in self.inputs.items()}
        """Each declared input's shape as both checks read it (see `_shape_fits`)."""

    def check(self, request: InferenceRequest) -> None:
        """InvalidInput unless the request's inputs and requested outputs fit the model."""
        if self.inputs:
            self._check_inputs(request.inputs)
        if request.outputs:
            self._check_requested(request.outputs)

    def fits(self, inputs: Tensors) -> bool:
        """Whether `inputs` are the declared inputs, each with its datatype and a shape that
        fits: the predict lane's check. `check` says what is wrong with the others."""
        if not self.inputs:
            return True
        if len(inputs) != len(self.inputs):
            return False
        for name, array in inputs.items():
            spec = self.inputs.get(name)
            if (
                spec is None
                or from_dtype(array.dtype) is not spec.datatype
                or not _shape_fits(array.shape, self._shapes[name])
            ):
                return False
        return True

    def _check_inputs(self, inputs: list[RequestInput]) -> None:
        """Each declared input, once, with its datatype and a shape that fits."""
        model = self.metadata.name
        seen: set[str] = set()
        for tensor in inputs:
            name = tensor.name
            if name in seen:
                raise InvalidInput(f"input {name!r} is given more than once")
            seen.add(name)
            spec = self.inputs.get(name)
            if spec is None:
                raise InvalidInput(
                    f"input {name!r} is not an input of model {model!r}; "
                    f"inputs: {_names(self.metadata.inputs)}"
                )
            if tensor.datatype != spec.datatype:
                raise InvalidInput(
                    f"input {name!r}: datatype {tensor.datatype} does not match "
                    f"{spec.datatype} of model {model!r}"
                )
            if not _shape_fits(tensor.shape, self._shapes[name]):
                raise InvalidInput(
                    f"input {name!r}: shape {tensor.shape} does not match "
                    f"{spec.shape} of model {model!r}"
                )
        if len(seen) < len(self.inputs):  # every name seen is declared: some are missing
            missing = next(name for name in self.inputs if name not in seen)
            raise InvalidInput(
                f"model {model!r} expects input {missing!r}, which the request does not have"
            )

    def _check_requested(self, outputs: list[RequestOutput]) -> None:
        """Requested outputs must each be asked for once, and be declared outputs (when the
        model declares any)."""
        seen: set[str] = set()
        for wanted in outputs:
            if wanted.name in seen:
                raise InvalidInput(f"requested output {wanted.name!r} is given more than once")
            seen.add(wanted.name)
            if self.outputs and wanted.name not in self.outputs:
                raise InvalidInput(
                    f"requested output {wanted.name!r} is not an output of model "
                    f"{self.metadata.name!r}; outputs: {_names(self.metadata.outputs)}"
                )

    def select_outputs(
        self, request: InferenceRequest, response: InferenceResponse
    ) -> list[ResponseOutput]:
        """The requested outputs, in the requested order."""
        produced = {output.name: output for output in response.outputs}
        selected = []
        for wanted in request.outputs or ():
            output = produced.get(wanted.name)
            if output is None:
                model = self.metadata.name
                if self.outputs:
                    raise PredictorError(f"model {model!r} did not produce output {wanted.name!r}")
                raise InvalidInput(
                    f"requested output {wanted.name!r} is not an output of model "
                    f"{model!r}; outputs: {', '.join(map(repr, produced))}"
                )
            selected.append(output)
        return selected


ShapeRule = tuple[int, tuple[tuple[int, int], ...]]
"""A declared shape as the checks read it: its rank, and (index, size) of each dimension
of fixed size (-1, any size, has none)."""


def _shape_rule(shape: list[int]) -> ShapeRule:
    return len(shape), tuple((index, size) for index, size in enumerate(shape) if size >= 0)


def _shape_fits(shape: Sequence[int], rule: ShapeRule) -> bool:
    rank, fixed = rule
    if len(shape) != rank:
        return False
    for index, size in fixed:  # noqa: SIM110  # no generator frame
        if shape[index] != size:
            return False
    return True


def _names(tensors: list[MetadataTensor]) -> str:
    return ", ".join(repr(tensor.name) for tensor in tensors)
