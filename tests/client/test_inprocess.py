"""The in-process client: the InferenceClient of code in the server, over the DataPlane, with
the caller's request id, X- headers and deadline carried on; and the bundled model that
calls iris through it."""

from __future__ import annotations

import shutil
from pathlib import Path

import httpx
import numpy as np
import pytest

from app.client import (
    InferenceClient,
    InferenceGRPCClient,
    InferenceRESTClient,
    InferInput,
    InferRequest,
    InProcessClient,
)
from app.dataplane import DataPlane
from app.protocol.errors import DeadlineExceeded, InvalidInput, ModelNotFound
from app.server import Server
from tests.client.conftest import SLOW_SECONDS
from tests.payloads import IRIS_CLASSES, IRIS_ROWS
from tests.repo import IRIS, add_model

LABELS = IRIS.parent / "iris-labels"


@pytest.fixture
def repository(repository: Path) -> Path:
    add_model(repository, "relay", "tests.toys:Relay")
    shutil.copytree(LABELS, repository / "iris-labels")
    return repository


def _iris() -> InferRequest:
    tensor = InferInput("input-0", list(IRIS_ROWS.shape), "FP32")
    tensor.set_data_from_numpy(IRIS_ROWS)
    return InferRequest("iris", [tensor], request_id="own")


def test_every_client_is_an_inference_client() -> None:
    for client in (InferenceRESTClient, InferenceGRPCClient, InProcessClient):
        assert issubclass(client, InferenceClient)


async def test_the_in_process_client_calls_the_dataplane(dataplane: DataPlane) -> None:
    async with InProcessClient(dataplane) as client:
        answer = await client.infer(_iris())
        assert (answer.model_name, answer.model_version, answer.id) == ("iris", "1", "own")
        assert answer["output-0"].as_numpy().argmax(axis=1).tolist() == IRIS_CLASSES
        assert (await client.model_metadata("versioned")).versions == ["1", "2", "10"]
        assert await client.is_model_ready("versioned", version="2")
        with pytest.raises(ModelNotFound, match="model 'nope' not found"):
            await client.is_model_ready("nope")
        bad = InferRequest("iris", [InferInput("input-0", [1, 3], "FP32", [[1.0, 2.0, 3.0]])])
        with pytest.raises(InvalidInput, match=r"shape \[1, 3\] does not match \[-1, 4\]"):
            await client.infer(bad)
    series = dataplane.monitor.series
    assert series[("iris", "1", "inprocess", "success")].count == 1
    assert series[("iris", "1", "inprocess", "invalid_argument")].count == 1


async def test_a_timeout_bounds_the_call(dataplane: DataPlane) -> None:
    slow = InferRequest("slow", [InferInput("x", [1], "INT32", [7])])
    client = InProcessClient(dataplane, timeout=SLOW_SECONDS / 10)
    with pytest.raises(DeadlineExceeded, match="model 'slow' did not answer"):
        await client.infer(slow)
    assert (await client.infer(slow, timeout=None)).outputs[0].as_numpy().tolist() == [7]


async def test_a_model_calls_another_with_the_callers_id_and_headers(server: Server) -> None:
    body = {"inputs": [{"name": "x", "shape": [2], "datatype": "INT32", "data": [4, 2]}]}
    headers = {"x-request-id": "r-7", "x-tenant": "acme"}
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.http_port}") as client:
        answer = await client.post("/v2/models/relay/infer", json=body, headers=headers)
    assert answer.status_code == 200, answer.text
    outputs = {output["name"]: output["data"] for output in answer.json()["outputs"]}
    assert outputs == {"x": [4, 2], "id": ["r-7"], "tenant": ["acme"]}
    assert answer.headers["x-request-id"] == "r-7"
    series = server.dataplane.monitor.series
    assert series[("params", "1", "inprocess", "success")].count == 1
    assert series[("relay", "1", "rest", "success")].count == 1


async def test_the_bundled_labels_model_names_iris_classes(server: Server) -> None:
    async with InferenceRESTClient(f"http://127.0.0.1:{server.http_port}") as client:
        tensor = InferInput("input-0", list(IRIS_ROWS.shape), "FP32")
        tensor.set_data_from_numpy(IRIS_ROWS)
        answer = await client.infer(InferRequest("iris-labels", [tensor]))
    names = np.array([b"setosa", b"versicolor", b"virginica"], dtype=object)
    assert answer["label"].as_numpy().tolist() == names[IRIS_CLASSES].tolist()
    assert np.all(answer["probability"].as_numpy() > 0.5)
