"""The clients' request and response objects, with KServe's names (`InferInput`, `InferRequest`,
`InferResponse`, ...). They hold numpy arrays; `app.client.wire` converts them to and from the
protocol core's types, which the REST and gRPC codecs put on the wire."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, Self

import numpy as np

from app.protocol.codecs.arrays import array_from_values, element_count
from app.protocol.codecs.datatypes import Datatype, from_dtype, parse_datatype, to_dtype
from app.protocol.errors import InvalidInput
from app.protocol.types import Parameters


def _strings(values: Sequence[Any], what: str) -> list[Any]:
    """The elements of a (possibly nested) list of str / bytes, flattened row-major."""
    flat: list[Any] = []
    for value in values:
        if isinstance(value, str | bytes):
            flat.append(value)
        elif isinstance(value, list | tuple):
            flat.extend(_strings(value, what))
        else:
            raise InvalidInput(
                f"{what}: BYTES data must be str or bytes, got {type(value).__name__}"
            )
    return flat


def _as_array(data: Any, shape: list[int], datatype: Datatype, what: str) -> np.ndarray:
    """`data` (numpy array or nested list) as an array of `shape` holding `datatype`, with the
    same checks for arrays and lists: flat data must fill the shape, nested (or
    multi-dimensional) data must have it; BYTES takes only str / bytes; numbers must be of
    the datatype's kind (no floats for integers or BOOL) and within its range. An array of a
    dtype that holds `datatype` is taken as it is (no copy)."""
    if datatype is Datatype.BYTES:
        try:
            nested = np.asarray(data, dtype=object)
        except ValueError:
            raise InvalidInput(f"{what}: data is ragged") from None
        _check_nested(nested, shape, what)
        items = _strings(nested.ravel().tolist(), what)
        array = np.empty(len(items), dtype=object)
        array[:] = items
    elif isinstance(data, np.ndarray) and from_dtype(data.dtype) is datatype:
        array = data.astype(to_dtype(datatype), copy=False)
        _check_nested(array, shape, what)
    else:
        array = array_from_values(data, shape, datatype, what)
    if array.size != element_count(shape):
        raise InvalidInput(f"{what}: {array.size} values do not fill shape {shape}")
    return array.reshape(shape)


def _check_nested(array: np.ndarray, shape: list[int], what: str) -> None:
    """Flat data may fill any shape; multi-dimensional data must have the tensor's shape."""
    if array.ndim > 1 and list(array.shape) != shape:
        raise InvalidInput(f"{what}: data of shape {list(array.shape)} does not match {shape}")


class _Tensor:
    """A named tensor: shape, datatype (a wire name such as "FP32"), parameters and data."""

    def __init__(
        self,
        name: str,
        shape: Sequence[int],
        datatype: str,
        data: Any = None,
        parameters: Parameters | None = None,
    ) -> None:
        self.name = name
        self.shape = list(shape)
        self._datatype = parse_datatype(str(datatype).upper(), self._what)
        self.parameters = parameters
        self._array: np.ndarray | None = None
        if data is not None:
            self._array = _as_array(data, self.shape, self._datatype, self._what)

    @classmethod
    def of_array(
        cls, name: str, array: np.ndarray, parameters: Parameters | None = None
    ) -> Self | None:
        """The tensor holding `array` as it is (its shape; the datatype its dtype holds),
        with no copy and no check of the values; None when no datatype holds its dtype."""
        datatype = from_dtype(array.dtype)
        if datatype is None:
            return None
        tensor = cls.__new__(cls)
        tensor.name, tensor.shape, tensor._datatype = name, list(array.shape), datatype
        tensor.parameters, tensor._array = parameters, array
        return tensor

    @property
    def _what(self) -> str:
        return f"tensor {self.name!r}"

    @property
    def datatype(self) -> str:
        return self._datatype.value

    @property
    def data(self) -> np.ndarray | None:
        """The tensor's elements as an array of its shape (None until data is set)."""
        return self._array

    def as_numpy(self) -> np.ndarray:
        """The data as an array of the tensor's shape (BYTES: an object array)."""
        if self._array is None:
            raise InvalidInput(f"{self._what} has no data")
        return self._array

    def set_data_from_numpy(self, array: np.ndarray) -> None:
        """Take the data from `array`, whose dtype and shape must match the tensor's."""
        if not isinstance(array, np.ndarray):
            raise InvalidInput(f"{self._what}: expected a numpy array, got {type(array).__name__}")
        found = from_dtype(array.dtype)
        if found is not self._datatype:
            raise InvalidInput(
                f"{self._what}: a numpy array of dtype {array.dtype} does not hold {self.datatype}"
            )
        if list(array.shape) != self.shape:
            raise InvalidInput(
                f"{self._what}: array shape {list(array.shape)} does not match shape {self.shape}"
            )
        self._array = _as_array(array, self.shape, self._datatype, self._what)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, _Tensor)
        return (
            (self.name, self.shape, self.datatype, self.parameters or None)
            == (other.name, other.shape, other.datatype, other.parameters or None)
        ) and _same_data(self._array, other._array)

    __hash__ = None  # type: ignore[assignment]  # mutable, compared by value

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(name={self.name!r}, shape={self.shape}, "
            f"datatype={self.datatype!r}, data={self._array!r}, parameters={self.parameters!r})"
        )


def _same_data(left: np.ndarray | None, right: np.ndarray | None) -> bool:
    if left is None or right is None:
        return left is right
    if left.dtype.kind == "f" and right.dtype.kind == "f":
        return bool(np.array_equal(left, right, equal_nan=True))
    return left.shape == right.shape and left.ravel().tolist() == right.ravel().tolist()


class InferInput(_Tensor):
    """An input tensor of a request."""

    binary_data = False
    """Whether the REST client may send the data as binary (see set_data_from_numpy)."""

    def set_data_from_numpy(self, array: np.ndarray, binary_data: bool = True) -> None:
        """Take the data from `array`. With `binary_data` the REST client sends it as raw
        bytes (the binary tensor data extension) when the server supports that."""
        super().set_data_from_numpy(array)
        self.binary_data = binary_data


class InferOutput(_Tensor):
    """An output tensor of a response."""


class RequestedOutput:
    """An output to return; `binary_data` asks the REST server for it as raw bytes."""

    def __init__(
        self, name: str, parameters: Parameters | None = None, *, binary_data: bool | None = None
    ) -> None:
        self.name = name
        self.parameters = dict(parameters) if parameters else None
        if binary_data is not None:
            self.parameters = {**(self.parameters or {}), "binary_data": binary_data}

    @property
    def binary_data(self) -> bool | None:
        return None if self.parameters is None else self.parameters.get("binary_data")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RequestedOutput):
            return NotImplemented
        return (self.name, self.parameters) == (other.name, other.parameters)

    __hash__ = None  # type: ignore[assignment]  # mutable, compared by value

    def __repr__(self) -> str:
        return f"RequestedOutput(name={self.name!r}, parameters={self.parameters!r})"


class InferRequest:
    """A request to run `model_name` on `inputs`. KServe's keyword names `infer_inputs` and
    `request_outputs` are accepted too."""

    def __init__(
        self,
        model_name: str,
        inputs: Sequence[InferInput] | None = None,
        request_id: str | None = None,
        parameters: Parameters | None = None,
        outputs: Sequence[RequestedOutput] | None = None,
        model_version: str | None = None,
        *,
        infer_inputs: Sequence[InferInput] | None = None,
        request_outputs: Sequence[RequestedOutput] | None = None,
    ) -> None:
        chosen = inputs if inputs is not None else infer_inputs
        if chosen is None:
            raise TypeError("InferRequest needs inputs")
        self.model_name = model_name
        self.inputs = list(chosen)
        self.id = request_id
        self.parameters = parameters
        wanted = outputs if outputs is not None else request_outputs
        self.outputs = list(wanted) if wanted is not None else None
        self.model_version = model_version

    @property
    def request_outputs(self) -> list[RequestedOutput] | None:
        return self.outputs

    def get_input_by_name(self, name: str) -> InferInput | None:
        return next((tensor for tensor in self.inputs if tensor.name == name), None)

    def __repr__(self) -> str:
        return (
            f"InferRequest(model_name={self.model_name!r}, id={self.id!r}, inputs={self.inputs!r}, "
            f"outputs={self.outputs!r}, parameters={self.parameters!r})"
        )


class InferResponse:
    """A model's answer: `outputs` in order, also found by name (`response["output-0"]`)."""

    def __init__(
        self,
        response_id: str | None,
        model_name: str,
        infer_outputs: Sequence[InferOutput],
        model_version: str | None = None,
        parameters: Parameters | None = None,
    ) -> None:
        self.id = response_id
        self.model_name = model_name
        self.outputs = list(infer_outputs)
        self.model_version = model_version
        self.parameters = parameters

    def get_output_by_name(self, name: str) -> InferOutput | None:
        return next((tensor for tensor in self.outputs if tensor.name == name), None)

    def __getitem__(self, name: str) -> InferOutput:
        found = self.get_output_by_name(name)
        if found is None:
            raise KeyError(f"response has no output {name!r}")
        return found

    def __iter__(self) -> Iterator[InferOutput]:
        return iter(self.outputs)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, InferResponse):
            return NotImplemented
        mine = (self.id, self.model_name, self.model_version, self.parameters or None)
        theirs = (other.id, other.model_name, other.model_version, other.parameters or None)
        return mine == theirs and self.outputs == other.outputs

    __hash__ = None  # type: ignore[assignment]  # mutable, compared by value

    def __repr__(self) -> str:
        return (
            f"InferResponse(id={self.id!r}, model_name={self.model_name!r}, "
            f"model_version={self.model_version!r}, outputs={self.outputs!r})"
        )
