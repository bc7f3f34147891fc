"""The statistics and model configuration extensions over REST, in process."""

from __future__ import annotations

import httpx
import pytest

from tests.payloads import iris_request


async def test_statistics_count_inferences_per_version(rest: httpx.AsyncClient) -> None:
    for _ in range(2):
        assert (await rest.post("/v2/models/iris/infer", json=iris_request())).status_code == 200
    body = {"inputs": [{"name": "input-0", "shape": [1, 4], "datatype": "FP32", "data": [1]}]}
    assert (await rest.post("/v2/models/iris/infer", json=body)).status_code == 400
    everything = (await rest.get("/v2/models/stats")).json()["model_stats"]
    assert ("versioned", "10") in {(s["name"], s["version"]) for s in everything}
    for path in ["/v2/models/iris/stats", "/v2/models/iris/versions/1/stats"]:
        (iris,) = (await rest.get(path)).json()["model_stats"]
        stats = iris["inference_stats"]
        assert (iris["name"], iris["version"], iris["execution_count"]) == ("iris", "1", 2)
        assert stats["success"]["count"] == 2
        assert stats["fail"]["count"] == 0  # decoding failed before the model was resolved
        assert stats["compute_infer"]["ns"] > 0
        assert set(stats) >= {"queue", "compute_input", "compute_output", "cache_hit"}


async def test_config_has_triton_shape(rest: httpx.AsyncClient) -> None:
    for path in ["/v2/models/iris/config", "/v2/models/iris/versions/1/config"]:
        config = (await rest.get(path)).json()
        assert config["name"] == "iris"
        assert config["max_batch_size"] == 0
        assert config["input"] == [{"name": "input-0", "data_type": "TYPE_FP32", "dims": [-1, 4]}]
        assert config["output"][0]["dims"] == [-1, 3]


@pytest.mark.parametrize(
    ("path", "status", "message"),
    [
        ("/v2/models/iris/versions/3/stats", 404, "model 'iris' has no version '3'"),
        ("/v2/models/nope/stats", 404, "model 'nope' not found"),
        ("/v2/models/failing/versions/9/config", 404, "(versions: '1')"),
        ("/v2/models/nope/config", 404, "model 'nope' not found"),
    ],
)
async def test_extension_errors(
    rest: httpx.AsyncClient, path: str, status: int, message: str
) -> None:
    answer = await rest.get(path)
    assert answer.status_code == status
    assert message in answer.json()["error"]


async def test_model_metadata_route_still_answers(rest: httpx.AsyncClient) -> None:
    answer = await rest.get("/v2/models/iris")
    assert answer.status_code == 200
    assert answer.json()["name"] == "iris"
