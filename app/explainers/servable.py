"""`Explainer`: the predictor of a model folder that declares an `explainer`.

It explains rows of features (its request's one input) by calling its target (`modelRef`,
or `pipelineRef`) through the predictor's client (in process by default: the caller's
request id, X- headers and deadline carried on). The target answers the rows first, so a
request it refuses gets its own error; then the method calls it on the variants it needs.
The answer is MLServer's: one BYTES output `explanation` holding the explanation as JSON,
and the headers `x-seldon-alibi-type: explanation`, `x-seldon-alibi-method: <type>`.
"""

from __future__ import annotations

import numpy as np
import orjson

from app.client.tensors import InferInput, InferRequest, InferResponse
from app.explainers.loader import feature_names, method_class, read_background
from app.explainers.method import ExplainerMethod
from app.model_settings import ModelSettings
from app.predictors.base import Predictor
from app.protocol.codecs.datatypes import Datatype
from app.protocol.codecs.v1 import EXPLANATION
from app.protocol.errors import InvalidInput, OIPError
from app.protocol.types import (
    InferenceRequest,
    InferenceResponse,
    MetadataTensor,
    ModelMetadataResponse,
    ResponseOutput,
)
from app.resolver import Target, target_of

ALIBI_TYPE, ALIBI_METHOD = "x-seldon-alibi-type", "x-seldon-alibi-method"
MAX_ROWS = 1000
"""The most rows one request may ask to explain, unless the parameter `max_rows` says."""
_OWN_PARAMETERS = {"background", "feature_names", "output", "max_rows"}
"""Parameters the servable reads; the rest are the method's."""


class Explainer(Predictor):
    """Explains its target's answers with the method its settings' `explainer.type` names."""

    def __init__(self, settings: ModelSettings) -> None:
        super().__init__(settings)
        assert settings.explainer is not None
        self.explainer = settings.explainer
        self.target = target_of(settings.explainer.target)
        self.method: ExplainerMethod | None = None
        self.feature_names: list[str] | None = None
        self.max_rows = MAX_ROWS

    def load(self) -> None:
        parameters = self.settings.parameters
        cls = method_class(self.explainer.type)
        background, header = read_background(self.path, parameters.get("background"))
        if background is None and cls.needs_background:
            raise ValueError(
                f"the {self.explainer.type} method needs background data: put "
                "background.csv (rows of features) in the folder, or name the file with the "
                "parameter 'background'"
            )
        count = background.shape[1] if background is not None else None
        self.feature_names = feature_names(parameters.get("feature_names"), header, count)
        self.max_rows = _max_rows(parameters.get("max_rows", MAX_ROWS))
        method_parameters = {k: v for k, v in parameters.items() if k not in _OWN_PARAMETERS}
        self.method = cls(method_parameters, background)

    def metadata(self) -> ModelMetadataResponse:
        declared = super().metadata()
        if declared.outputs:
            return declared
        explanation = MetadataTensor(name=EXPLANATION, datatype=Datatype.BYTES, shape=[1])
        return declared.model_copy(update={"outputs": [explanation]})

    async def infer(self, request: InferenceRequest) -> InferenceResponse:
        """The explanation of the request's rows; errors (the target's too) name this
        explainer."""
        try:
            return await self._explain(request)
        except OIPError as error:
            raise type(error)(f"explainer {self.name!r}: {error.message}") from error

    async def _explain(self, request: InferenceRequest) -> InferenceResponse:
        assert self.method is not None
        if len(request.inputs) != 1:
            raise InvalidInput(f"rows of one input are explained, got {len(request.inputs)} inputs")
        (given,) = request.inputs
        rows = np.asarray(given.data)
        if rows.ndim == 0 or not rows.size:
            raise InvalidInput(f"input {given.name!r} of shape {list(rows.shape)} has no rows")
        if len(rows) > self.max_rows:
            raise InvalidInput(
                f"{len(rows)} rows to explain in one request, at most {self.max_rows} "
                "(parameter max_rows): each row costs the method many calls of the model"
            )
        answer = await self._call(given.name, rows)
        output = self.settings.parameters.get("output")
        output = str(output) if output is not None else _first(answer, self.target)
        prediction = _column(answer, output, self.target)

        async def predict(variants: np.ndarray) -> np.ndarray:
            answered = await self._call(given.name, variants.astype(rows.dtype, copy=False))
            return _column(answered, output, self.target)

        explanation = await self.method.explain(rows, predict)
        data = {
            "target": {self.target.kind.value: self.target.name},
            "output": output,
            **({"feature_names": self.feature_names} if self.feature_names else {}),
            "prediction": prediction,
            "attributions": explanation.attributions,
            **(
                {"expected_value": explanation.expected_value}
                if explanation.expected_value is not None
                else {}
            ),
            **explanation.extra,
        }
        meta = {"name": self.explainer.type, "explainer": self.name}
        body = orjson.dumps(
            {"meta": meta, "data": data},
            option=orjson.OPT_SERIALIZE_NUMPY,
            default=_json_default,
        )
        return InferenceResponse(
            model_name=self.name,
            id=request.id,
            parameters={ALIBI_TYPE: "explanation", ALIBI_METHOD: self.explainer.type},
            outputs=[
                ResponseOutput(
                    name=EXPLANATION,
                    datatype=Datatype.BYTES,
                    shape=[1],
                    data=np.array([body], dtype=object),
                )
            ],
        )

    async def _call(self, name: str, rows: np.ndarray) -> InferResponse:
        """The target's answer for `rows`, as input `name`."""
        tensor = InferInput.of_array(name, np.ascontiguousarray(rows))
        if tensor is None:
            raise InvalidInput(f"input {name!r} is not numbers")
        return await self.client.infer(InferRequest(self.explainer.target, [tensor]))


def _first(answer: InferResponse, target: Target) -> str:
    if not answer.outputs:
        raise InvalidInput(f"{target} answered no outputs to explain")
    return answer.outputs[0].name


def _column(answer: InferResponse, output: str, target: Target) -> np.ndarray:
    """The named output of the target's answer, as (rows, outputs) float64."""
    found = answer.get_output_by_name(output)
    if found is None:
        names = ", ".join(repr(o.name) for o in answer.outputs)
        raise InvalidInput(f"{target} answered no output {output!r}; outputs: {names}")
    array = found.as_numpy()
    if array.dtype.kind not in "biuf" or array.ndim not in (1, 2):
        raise InvalidInput(
            f"{target} output {output!r} is not numbers of shape [rows] or [rows, outputs]: "
            f"{found.datatype} {list(array.shape)}"
        )
    return array.reshape(len(array), -1).astype(np.float64)


def _max_rows(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError(f"the parameter max_rows must be an integer >= 1, got {value!r}")
    try:
        rows = int(value)
    except ValueError:
        rows = 0
    if rows < 1:
        raise ValueError(f"the parameter max_rows must be an integer >= 1, got {value!r}")
    return rows


def _json_default(value: object) -> object:
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError
