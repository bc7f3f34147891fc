"""A model's declared signature, and the checks of requests and responses against it."""

from __future__ import annotations

from collections.abc import Sequence

from app.protocol.codecs.datatypes import from_dtype, to_dtype
from app.protocol.errors import InvalidInput, PredictorError
from app.protocol.payload import Answer, Output, Payload, Tensors
from app.protocol.types import MetadataTensor, ModelMetadataResponse, RequestOutput


class Signature:
    """The declared inputs and outputs of one loaded model version, by name, read once from
    its metadata; each request is checked against them."""

    __slots__ = ("_dtypes", "_output_shapes", "_shapes", "inputs", "metadata", "outputs")

    def __init__(self, metadata: ModelMetadataResponse) -> None:
        self.metadata = metadata
        self.inputs = {tensor.name: tensor for tensor in metadata.inputs}
        self.outputs = {tensor.name: tensor for tensor in metadata.outputs}
        self._shapes = {name: _shape_rule(spec.shape) for name, spec in self.inputs.items()}
        """Each declared input's shape as `_shape_fits` reads it."""
        self._dtypes = {name: to_dtype(spec.datatype) for name, spec in self.inputs.items()}
        """The dtype of each declared input's arrays."""
        self._output_shapes = {name: _shape_rule(s.shape) for name, s in self.outputs.items()}

    def check(self, payload: Payload) -> None:
        """InvalidInput unless the payload's inputs and requested outputs fit the model."""
        if self.inputs:
            self._check_inputs(payload.inputs)
        if payload.outputs:
            self._check_requested(payload.outputs)

    def _check_inputs(self, inputs: Tensors) -> None:
        """Each declared input, with its datatype and a shape that fits."""
        model = self.metadata.name
        for name, array in inputs.items():
            spec = self.inputs.get(name)
            if spec is None:
                raise InvalidInput(
                    f"input {name!r} is not an input of model {model!r}; "
                    f"inputs: {_names(self.metadata.inputs)}"
                )
            if array.dtype != self._dtypes[name]:
                raise InvalidInput(
                    f"input {name!r}: datatype {from_dtype(array.dtype)} does not match "
                    f"{spec.datatype} of model {model!r}"
                )
            if not _shape_fits(array.shape, self._shapes[name]):
                raise InvalidInput(
                    f"input {name!r}: shape {list(array.shape)} does not match "
                    f"{spec.shape} of model {model!r}"
                )
        if len(inputs) < len(self.inputs):  # every name given is declared: some are missing
            missing = next(name for name in self.inputs if name not in inputs)
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

    def check_answer(self, answer: Answer) -> None:
        """PredictorError (a 500) for an output the model does not declare, or of another
        datatype or shape than declared; a declared output may be missing (a model may
        answer one output or another). Nothing is checked for a model that declares none."""
        if not self.outputs:
            return
        model = self.metadata.name
        for output in answer.outputs:
            spec = self.outputs.get(output.name)
            if spec is None:
                raise PredictorError(
                    f"model {model!r} answered output {output.name!r}, which it does not "
                    f"declare; outputs: {_names(self.metadata.outputs)}"
                )
            if output.datatype != spec.datatype:
                raise PredictorError(
                    f"model {model!r} answered output {output.name!r} as {output.datatype}, "
                    f"declared {spec.datatype}"
                )
            if not _shape_fits(output.shape, self._output_shapes[output.name]):
                raise PredictorError(
                    f"model {model!r} answered output {output.name!r} of shape "
                    f"{list(output.shape)}, declared {spec.shape}"
                )

    def select_outputs(self, wanted_outputs: list[RequestOutput], answer: Answer) -> list[Output]:
        """The requested outputs, in the requested order."""
        produced = {output.name: output for output in answer.outputs}
        selected = []
        for wanted in wanted_outputs:
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
    return len(shape) == rank and all(shape[index] == size for index, size in fixed)


def _names(tensors: list[MetadataTensor]) -> str:
    return ", ".join(repr(tensor.name) for tensor in tensors)
