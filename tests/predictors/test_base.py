"""The Predictor base class: predict-style and infer-style models, sync and async."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import httpx
import numpy as np
import pytest

from app.context import INPROCESS, open_context
from app.dataplane import DataPlane
from app.model_settings import ModelSettings
from app.plans import Plan
from app.predictors.base import Predictor, call
from app.protocol.codecs.datatypes import Datatype
from app.protocol.errors import Unsupported
from app.protocol.payload import Payload, Tensors
from app.protocol.types import InferenceRequest, InferenceResponse, MetadataTensor, RequestInput
from tests.repo import add_model
from tests.toys import Gated


def _settings(**extra: object) -> ModelSettings:
    return ModelSettings(name="toy", implementation="x:Y", version="3", **extra)


def _request(**parameters: object) -> InferenceRequest:
    data = np.array([1.0, 2.0], dtype=np.float32)
    tensor = RequestInput(name="x", shape=[2], datatype=Datatype.FP32, data=data)
    return InferenceRequest(inputs=[tensor], parameters=parameters or None)


async def test_call_awaits_coroutines_on_the_loop() -> None:
    async def where() -> int:
        return threading.get_ident()

    # mypy cannot solve call()'s result type for a coroutine function passed bare
    assert await call(where) == threading.get_ident()  # type: ignore[arg-type]


async def test_call_runs_plain_functions_in_a_worker_thread() -> None:
    def where(offset: int) -> int:
        return threading.get_ident() + offset

    assert await call(where, 0) != threading.get_ident()


class SyncDouble(Predictor):
    def predict(self, inputs: Tensors) -> Tensors:
        self.thread = threading.get_ident()
        return {"y": inputs["x"] * 2}


class AsyncDouble(Predictor):
    async def predict(self, inputs: Tensors) -> Tensors:
        self.thread = threading.get_ident()
        return {"y": inputs["x"] * 2}


@pytest.mark.parametrize(("cls", "on_loop"), [(SyncDouble, False), (AsyncDouble, True)])
async def test_predict_style(cls: type[SyncDouble | AsyncDouble], on_loop: bool) -> None:
    predictor = cls(_settings())
    answer = await Plan(predictor)(Payload.of(_request()), open_context(INPROCESS))
    response = answer.response()
    assert response.model_name == "toy"
    (output,) = response.outputs
    assert (output.name, output.shape, output.datatype) == ("y", [2], Datatype.FP32)
    assert output.data.tolist() == [2.0, 4.0]
    assert (predictor.thread == threading.get_ident()) is on_loop
    assert predictor.predict_only


class SyncParameters(Predictor):
    def infer(self, request: InferenceRequest) -> InferenceResponse:
        self.thread = threading.get_ident()
        return InferenceResponse(model_name="toy", parameters=request.parameters, outputs=[])


class AsyncParameters(Predictor):
    async def infer(self, request: InferenceRequest) -> InferenceResponse:
        self.thread = threading.get_ident()
        return InferenceResponse(model_name="toy", parameters=request.parameters, outputs=[])


@pytest.mark.parametrize(("cls", "on_loop"), [(SyncParameters, False), (AsyncParameters, True)])
async def test_infer_style_sees_the_parameters(
    cls: type[SyncParameters | AsyncParameters], on_loop: bool
) -> None:
    predictor = cls(_settings())
    payload = Payload.of(_request(temperature=0.5, mode="fast"))
    answer = await Plan(predictor)(payload, open_context(INPROCESS))
    response = answer.response()
    assert response.parameters == {"temperature": 0.5, "mode": "fast"}
    assert (predictor.thread == threading.get_ident()) is on_loop
    assert not predictor.predict_only


async def test_predict_must_be_implemented() -> None:
    with pytest.raises(Unsupported, match="model 'toy' implements neither predict nor infer"):
        await Plan(Predictor(_settings()))(Payload.of(_request()), open_context(INPROCESS))


def test_metadata_comes_from_the_settings() -> None:
    tensor = MetadataTensor(name="x", datatype=Datatype.FP32, shape=[-1])
    settings = _settings(platform="numpy", inputs=[tensor], outputs=[tensor])
    predictor = Predictor(settings)
    metadata = predictor.metadata()
    assert (metadata.name, metadata.versions, metadata.platform) == ("toy", ["3"], "numpy")
    assert metadata.inputs == metadata.outputs == [tensor]
    assert (predictor.name, predictor.version, predictor.path) == ("toy", "3", Path("."))


async def test_sync_predict_never_stalls_the_event_loop(
    tmp_path: Path, dataplane: DataPlane, rest: httpx.AsyncClient
) -> None:
    """While a plain predict blocks its thread, the same loop keeps answering health checks."""
    add_model(dataplane.registry.repository, "gated", "tests.toys:Gated")
    await dataplane.registry.load("gated")
    _, predictor = dataplane.registry.predictor("gated")
    assert isinstance(predictor, Gated)
    body = {"inputs": [{"name": "x", "shape": [1], "datatype": "INT32", "data": [7]}]}
    inference = asyncio.create_task(rest.post("/v2/models/gated/infer", json=body))
    assert await asyncio.to_thread(predictor.entered.wait, 10)
    live = await rest.get("/v2/health/live")
    assert live.status_code == 200
    assert not inference.done()
    predictor.gate.set()
    answer = await inference
    assert answer.status_code == 200
    assert answer.json()["outputs"][0]["data"] == [7]
