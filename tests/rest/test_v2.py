"""Every v2 REST route in process, through the DataPlane."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import orjson
import pytest

from app.dataplane import DataPlane
from app.registry import ModelRegistry
from app.rest import create_app
from app.settings import ServerSettings
from tests.payloads import IRIS_CLASSES, IRIS_ROWS, iris_request


async def test_server_metadata_names_server_and_version(rest: httpx.AsyncClient) -> None:
    answer = await rest.get("/v2")
    assert answer.status_code == 200
    assert answer.json() == {
        "name": "oipserve",
        "version": "0.1.0",
        "extensions": [
            "binary_tensor_data",
            "model_repository",
            "statistics",
            "model_configuration",
        ],
    }


async def test_health_is_live_and_ready(rest: httpx.AsyncClient) -> None:
    live = await rest.get("/v2/health/live")
    assert (live.status_code, live.json()) == (200, {"live": True})
    ready = await rest.get("/v2/health/ready")
    assert (ready.status_code, ready.json()) == (200, {"ready": True})


async def test_readiness_is_503_until_started_and_after_stopping(
    dataplane: DataPlane, settings: ServerSettings
) -> None:
    plane = DataPlane(dataplane.registry, settings)
    transport = httpx.ASGITransport(app=create_app(plane, settings))
    async with httpx.AsyncClient(transport=transport, base_url="http://oipserve") as client:
        answers = [await client.get("/v2/health/ready")]
        plane.mark_started()
        answers.append(await client.get("/v2/health/ready"))
        plane.mark_stopping()
        answers.append(await client.get("/v2/health/ready"))
        live = await client.get("/v2/health/live")
    assert [(a.status_code, a.json()) for a in answers] == [
        (503, {"ready": False}),
        (200, {"ready": True}),
        (503, {"ready": False}),
    ]
    assert (live.status_code, live.json()) == (200, {"live": True})


@pytest.mark.parametrize("path", ["/v2/models/iris", "/v2/models/iris/versions/1"])
async def test_model_metadata(rest: httpx.AsyncClient, path: str) -> None:
    answer = await rest.get(path)
    assert answer.status_code == 200
    assert answer.json() == {
        "name": "iris",
        "versions": ["1"],
        "platform": "numpy",
        "inputs": [{"name": "input-0", "datatype": "FP32", "shape": [-1, 4]}],
        "outputs": [{"name": "output-0", "datatype": "FP32", "shape": [-1, 3]}],
    }


async def test_versioned_metadata(rest: httpx.AsyncClient) -> None:
    assert (await rest.get("/v2/models/versioned")).json()["versions"] == ["1", "2", "10"]
    assert (await rest.get("/v2/models/versioned/versions/2")).json()["versions"] == ["2"]


@pytest.mark.parametrize("path", ["/v2/models/iris/ready", "/v2/models/iris/versions/1/ready"])
async def test_model_ready(rest: httpx.AsyncClient, path: str) -> None:
    answer = await rest.get(path)
    assert (answer.status_code, answer.json()) == (200, {"name": "iris", "ready": True})


def _probabilities(body: dict[str, Any]) -> np.ndarray:
    (output,) = body["outputs"]
    assert output["name"] == "output-0"
    assert output["datatype"] == "FP32"
    assert output["shape"] == [2, 3]
    return np.array(output["data"]).reshape(2, 3)


@pytest.mark.parametrize("path", ["/v2/models/iris/infer", "/v2/models/iris/versions/1/infer"])
async def test_iris_classifies_two_flowers(rest: httpx.AsyncClient, path: str) -> None:
    answer = await rest.post(path, json=iris_request(id="req-1"))
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/json"
    body = answer.json()
    assert (body["id"], body["model_name"], body["model_version"]) == ("req-1", "iris", "1")
    probabilities = _probabilities(body)
    assert probabilities.argmax(axis=1).tolist() == IRIS_CLASSES
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)


async def test_flat_data_is_the_same_as_nested(rest: httpx.AsyncClient) -> None:
    nested = (await rest.post("/v2/models/iris/infer", json=iris_request())).json()
    flat_request = iris_request()
    flat_request["inputs"][0]["data"] = IRIS_ROWS.ravel().tolist()
    flat = (await rest.post("/v2/models/iris/infer", json=flat_request)).json()
    np.testing.assert_array_equal(_probabilities(flat), _probabilities(nested))


async def test_versions_route(rest: httpx.AsyncClient) -> None:
    body = {"inputs": [{"name": "input-0", "shape": [1, 1], "datatype": "FP32", "data": [1]}]}
    default = await rest.post("/v2/models/versioned/infer", json=body)
    named = await rest.post("/v2/models/versioned/versions/2/infer", json=body)
    assert (default.json()["model_version"], named.json()["model_version"]) == ("10", "2")


async def test_binary_request_and_binary_response(rest: httpx.AsyncClient) -> None:
    header = orjson.dumps(
        {
            "inputs": [
                {
                    "name": "input-0",
                    "shape": [2, 4],
                    "datatype": "FP32",
                    "parameters": {"binary_data_size": 32},
                }
            ],
            "outputs": [{"name": "output-0", "parameters": {"binary_data": True}}],
        }
    )
    answer = await rest.post(
        "/v2/models/iris/infer",
        content=header + IRIS_ROWS.tobytes(),
        headers={
            "Inference-Header-Content-Length": str(len(header)),
            "Content-Type": "application/octet-stream",
        },
    )
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/octet-stream"
    length = int(answer.headers["inference-header-content-length"])
    json = orjson.loads(answer.content[:length])
    assert json["outputs"][0]["parameters"] == {"binary_data_size": 24}
    probabilities = np.frombuffer(answer.content[length:], dtype="<f4").reshape(2, 3)
    assert probabilities.argmax(axis=1).tolist() == IRIS_CLASSES


async def test_binary_data_output_for_every_output(rest: httpx.AsyncClient) -> None:
    request = iris_request(parameters={"binary_data_output": True})
    answer = await rest.post("/v2/models/iris/infer", json=request)
    length = int(answer.headers["inference-header-content-length"])
    assert len(answer.content) == length + 24


async def test_parameters_reach_the_predictor(rest: httpx.AsyncClient) -> None:
    parameters = {"temperature": 0.5, "mode": "fast", "n": 3, "on": True}
    body = {
        "parameters": parameters,
        "inputs": [{"name": "x", "shape": [1], "datatype": "BYTES", "data": ["hé"]}],
    }
    answer = (await rest.post("/v2/models/params/infer", json=body)).json()
    assert answer["parameters"] == parameters
    assert answer["outputs"][0]["data"] == ["hé"]


async def test_requested_outputs(rest: httpx.AsyncClient) -> None:
    inputs = [
        {"name": name, "shape": [1], "datatype": "INT8", "data": [i]}
        for i, name in enumerate("abc")
    ]
    body = {"inputs": inputs, "outputs": [{"name": "c"}, {"name": "a"}]}
    answer = await rest.post("/v2/models/echo/infer", json=body)
    assert [(o["name"], o["data"]) for o in answer.json()["outputs"]] == [("c", [2]), ("a", [0])]


@pytest.fixture
async def broken(
    broken_repository: Path, settings: ServerSettings
) -> AsyncIterator[httpx.AsyncClient]:
    """A REST client over the repository whose `bad` model fails to load."""
    registry = ModelRegistry(broken_repository)
    await registry.load_repository()
    plane = DataPlane(registry, settings)
    plane.mark_started()
    transport = httpx.ASGITransport(app=create_app(plane, settings))
    async with httpx.AsyncClient(transport=transport, base_url="http://oipserve") as client:
        yield client


async def test_a_failed_model_is_reported(broken: httpx.AsyncClient) -> None:
    reason = "model 'bad' version '1' is unavailable: FileNotFoundError: weights.bin is missing"
    ready = await broken.get("/v2/models/bad/ready")
    assert (ready.status_code, ready.json()) == (400, {"name": "bad", "ready": False})
    metadata = await broken.get("/v2/models/bad")
    assert (metadata.status_code, metadata.json()) == (503, {"error": reason})
    body = {"inputs": [{"name": "x", "shape": [1], "datatype": "FP32", "data": [1]}]}
    infer = await broken.post("/v2/models/bad/infer", json=body)
    assert (infer.status_code, infer.json()) == (503, {"error": reason})
    assert (await broken.get("/v2/health/ready")).status_code == 503
    assert (await broken.get("/v2/health/live")).status_code == 200
    assert (await broken.post("/v2/models/good/infer", json=body)).status_code == 200
