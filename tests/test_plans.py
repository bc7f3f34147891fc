"""The Plan of a loaded version: predict gets the payload's arrays, infer a request built for
it; the answer carries the version's name, version and the request's id."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from app.context import REST, open_context
from app.model_settings import ModelSettings
from app.plans import Plan
from app.predictors.base import Predictor
from app.protocol.errors import InvalidInput, PredictorError
from app.protocol.payload import Payload, Tensors
from app.protocol.types import InferenceRequest, InferenceResponse, RequestOutput, ResponseOutput
from tests.repo import tensor


def _settings(**extra: object) -> ModelSettings:
    return ModelSettings(name="toy", implementation="x:Y", version="3", **extra)


class Arrays(Predictor):
    """A plain predict: records what it was given and in which thread."""

    def predict(self, inputs: Tensors) -> Tensors:
        self.given = inputs
        self.thread = threading.get_ident()
        return {"y": inputs["x"] * 2, "z": inputs["x"]}


class Whole(Predictor):
    """An async infer: records the request, answers under other names and ids."""

    async def infer(self, request: InferenceRequest) -> InferenceResponse:
        self.request = request
        data = request.inputs[0].data
        output = ResponseOutput(name="y", shape=list(data.shape), datatype="FP32", data=data)
        return InferenceResponse(
            model_name="other", model_version="9", id="x", parameters={"x-b": "2"}, outputs=[output]
        )


ROWS = np.ones((2, 2), np.float32)


async def test_predict_gets_the_payloads_arrays_in_a_worker_thread() -> None:
    predictor = Arrays(_settings(max_batch_size=4))
    plan = Plan(predictor)
    payload = Payload({"x": ROWS}, outputs=[RequestOutput(name="z")])
    context = open_context(REST, [("x-request-id", "r-1")])
    response = await plan(payload, context)
    assert predictor.given is payload.inputs  # no request object, no copy
    assert predictor.thread != threading.get_ident()
    assert (response.model_name, response.model_version, response.id) == ("toy", "3", "r-1")
    assert [output.name for output in response.outputs] == ["z"]  # the requested output
    assert context.batch == 2
    assert context.infer_ended >= context.infer_started > 0


async def test_infer_gets_a_request_with_the_id_and_x_headers() -> None:
    predictor = Whole(_settings())
    plan = Plan(predictor)
    context = open_context(REST, [("x-request-id", "r-2"), ("x-a", "1")])
    response = await plan(Payload({"x": ROWS}, parameters={"p": 1}), context)
    request = predictor.request
    assert (request.id, request.parameters) == ("r-2", {"p": 1, "x-a": "1"})
    assert request.inputs[0].data is ROWS
    assert (response.model_name, response.model_version, response.id) == ("toy", "3", "r-2")
    assert context.reply_headers == {"x-a": "1", "x-b": "2"}
    assert context.batch == 1  # no batch dimension declared


async def test_the_signature_is_checked_before_the_predictor_runs() -> None:
    predictor = Arrays(_settings(inputs=[tensor("x", "FP32", [-1, 2])]))
    with pytest.raises(InvalidInput, match="input 'x': datatype FP64 does not match FP32"):
        await Plan(predictor)(Payload({"x": ROWS.astype(np.float64)}), open_context(REST))
    assert not hasattr(predictor, "given")


async def test_a_predictors_own_failure_is_a_predictor_error() -> None:
    plan = Plan(Arrays(_settings()))
    with pytest.raises(PredictorError, match=r"model 'toy' failed: KeyError: 'x'"):
        await plan(Payload({"w": ROWS}), open_context(REST))
