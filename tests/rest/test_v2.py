"""The v2 REST endpoints in process, through the DataPlane."""

from __future__ import annotations

import httpx
import numpy as np

from tests.payloads import IRIS_CLASSES, iris_request


async def test_server_metadata_names_server_and_version(rest: httpx.AsyncClient) -> None:
    answer = await rest.get("/v2")
    assert answer.status_code == 200
    assert answer.json()["name"] == "oipserve"
    assert answer.json()["version"]


async def test_health_is_live_and_ready(rest: httpx.AsyncClient) -> None:
    assert (await rest.get("/v2/health/live")).json() == {"live": True}
    ready = await rest.get("/v2/health/ready")
    assert ready.status_code == 200
    assert ready.json() == {"ready": True}


async def test_iris_classifies_two_flowers(rest: httpx.AsyncClient) -> None:
    answer = await rest.post("/v2/models/iris/infer", json=iris_request(id="req-1"))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["id"] == "req-1"
    assert body["model_name"] == "iris"
    assert body["model_version"] == "1"
    (output,) = body["outputs"]
    assert output["name"] == "output-0"
    assert output["shape"] == [2, 3]
    probabilities = np.array(output["data"]).reshape(2, 3)
    assert probabilities.argmax(axis=1).tolist() == IRIS_CLASSES
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)


async def test_unknown_model_is_404_with_error_body(rest: httpx.AsyncClient) -> None:
    answer = await rest.post("/v2/models/nope/infer", json=iris_request())
    assert answer.status_code == 404
    assert answer.json() == {"error": "model 'nope' not found"}
