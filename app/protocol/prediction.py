"""What a model's `predict` answered, checked: output arrays by name, each with the OIP
datatype that holds it. The DataPlane's predict lane answers with one, and transports write
it out without building messages; `response` makes the InferenceResponse of the general path.
"""

from __future__ import annotations

import numpy as np

from app.protocol.codecs.datatypes import Datatype, from_dtype
from app.protocol.errors import PredictorError
from app.protocol.types import InferenceResponse, ResponseOutput

Output = tuple[str, Datatype, np.ndarray]
"""One output: its name, its datatype and its array."""


class Prediction:
    """The checked outputs of one `predict`, with the model version and request id."""

    __slots__ = ("id", "model_name", "model_version", "outputs")

    def __init__(
        self,
        model_name: str,
        outputs: object,
        model_version: str | None = None,
        request_id: str | None = None,
    ) -> None:
        """PredictorError unless `outputs` is a dict of arrays (or of what `np.asarray`
        takes) whose dtypes an OIP datatype holds."""
        if not isinstance(outputs, dict):
            raise PredictorError(
                f"model {model_name!r}: predict must return a dict of arrays, "
                f"got {type(outputs).__name__}"
            )
        checked: list[Output] = []
        for name, value in outputs.items():
            array = value if isinstance(value, np.ndarray) else np.asarray(value)
            datatype = from_dtype(array.dtype)
            if datatype is None:
                raise PredictorError(
                    f"model {model_name!r}: output {name!r} has numpy dtype {array.dtype}, "
                    "which no OIP datatype holds"
                )
            checked.append((name, datatype, array))
        self.model_name = model_name
        self.model_version = model_version
        self.id = request_id
        self.outputs = checked
        """The outputs in the order `predict` gave them."""

    def response(self) -> InferenceResponse:
        """The InferenceResponse holding these outputs."""
        return InferenceResponse.trusted(
            model_name=self.model_name,
            model_version=self.model_version,
            id=self.id,
            parameters=None,
            outputs=[
                ResponseOutput.trusted(
                    name=name,
                    shape=list(array.shape),
                    datatype=datatype,
                    parameters=None,
                    data=array,
                )
                for name, datatype, array in self.outputs
            ],
        )
