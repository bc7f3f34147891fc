"""protocol="v1": the REST client against KServe's own v1 ModelServer (a subprocess)."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest

from app.client import InferenceRESTClient, InferInput, InferRequest, RESTConfig
from app.protocol.errors import ModelNotFound, Unsupported
from tests.client.servers import HOST, free_port

pytestmark = pytest.mark.slow
SCRIPT = Path(__file__).parent / "kserve" / "v1_server.py"
V1 = RESTConfig(protocol="v1", retries=0)


@pytest.fixture(scope="module")
def kserve_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The base URL of a KServe ModelServer serving `doubler` over v1."""
    port = free_port()
    log = (tmp_path_factory.mktemp("kserve") / "server.log").open("w")
    process = subprocess.Popen(
        [sys.executable, str(SCRIPT), "--http_port", str(port)], stdout=log, stderr=log
    )
    url = f"http://{HOST}:{port}"
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and process.poll() is None:
            try:
                if httpx.get(url + "/v1/models/doubler", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        else:
            pytest.fail(f"KServe's ModelServer did not come up; see {log.name}")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def rows(array: np.ndarray, name: str = "x") -> InferInput:
    tensor = InferInput(name, list(array.shape), "FP32")
    tensor.set_data_from_numpy(array)
    return tensor


async def test_predict_turns_instances_into_predictions(kserve_url: str) -> None:
    values = np.array([[1, 2], [3, 4]], dtype=np.float32)
    async with InferenceRESTClient(kserve_url, V1) as client:
        assert client.protocol_version == "v1"
        response = await client.infer(InferRequest("doubler", [rows(values)], request_id="7"))
    (output,) = response.outputs
    assert (response.id, response.model_name, output.name) == ("7", "doubler", "predictions")
    assert (output.datatype, output.shape) == ("FP64", [2, 2])
    np.testing.assert_array_equal(output.as_numpy(), values * 2)


async def test_several_inputs_become_one_object_per_row(kserve_url: str) -> None:
    request = InferRequest(
        "doubler",
        [rows(np.array([[1, 2], [3, 4]], np.float32), "a"), rows(np.ones((2, 1), np.float32), "b")],
    )
    async with InferenceRESTClient(kserve_url, V1) as client:
        response = await client.infer(request)
    assert response["predictions"].as_numpy().tolist() == [4.0, 8.0]


async def test_kserve_form_sends_and_returns_dicts(kserve_url: str) -> None:
    async with InferenceRESTClient(V1) as client:
        result = await client.infer(kserve_url, {"instances": [[1, 2]]}, "doubler")
        explained = await client.explain(kserve_url, "doubler", {"instances": [[1, 2]]})
        assert await client.is_model_ready(kserve_url, "doubler")
        assert await client.is_server_live(kserve_url)
    assert result == {"predictions": [[2, 4]]}
    assert explained == {"explanations": [[1.0, 1.0]]}


async def test_explain_health_and_errors(kserve_url: str) -> None:
    async with InferenceRESTClient(kserve_url, V1) as client:
        explained = await client.explain(
            InferRequest("doubler", [rows(np.ones((1, 3), np.float32))])
        )
        assert explained == {"explanations": [[1.0, 1.0, 1.0]]}
        assert await client.is_server_live()
        assert await client.is_model_ready("doubler")
        with pytest.raises(ModelNotFound, match="Model with name nope does not exist"):
            await client.is_model_ready("nope")
        with pytest.raises(ModelNotFound, match="nope"):
            await client.infer(InferRequest("nope", [rows(np.ones((1, 1), np.float32))]))
        for call in (client.is_server_ready(), client.server_metadata()):
            with pytest.raises(Unsupported, match="not part of the v1 protocol"):
                await call
