"""The third-party OIP clients (NVIDIA's tritonclient, KServe's) against a real server: correct
iris answers in every encoding, health and metadata, and the right error for an unknown model
and for a bad request, after which the server is still ready. Each client runs in its own
process (see tests/interop/clients)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx
import numpy as np
import pytest

from tests.interop.clients.common import INPUT, MODEL, REQUEST_ID, UNKNOWN_MODEL, WRONG_DATATYPE
from tests.payloads import IRIS_CLASSES, iris_request
from tests.process import ServerProcess, python

pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class Client:
    script: str
    mode: str
    grpc: bool
    has_metadata: bool

    @property
    def binary(self) -> bool:
        """Whether the request travels as binary (REST extension) or raw contents (gRPC)."""
        return self.mode.endswith(("binary", "raw"))

    def __str__(self) -> str:
        return f"{self.script}-{self.mode}"


CLIENTS = [
    Client("triton", "http-binary", grpc=False, has_metadata=True),
    Client("triton", "http-json", grpc=False, has_metadata=True),
    Client("triton", "grpc-raw", grpc=True, has_metadata=True),
    Client("kserve_rest", "binary", grpc=False, has_metadata=False),
    Client("kserve_rest", "json", grpc=False, has_metadata=False),
    Client("kserve_grpc", "raw", grpc=True, has_metadata=False),
    Client("kserve_grpc", "contents", grpc=True, has_metadata=False),
]


def each(clients: list[Client]) -> pytest.MarkDecorator:
    return pytest.mark.parametrize("seen", clients, indirect=True, ids=str)


def run_client(client: Client, server: ServerProcess) -> dict[str, Any]:
    port = server.grpc_port if client.grpc else server.http_port
    script = f"tests.interop.clients.{client.script}"
    report = python("-m", script, f"127.0.0.1:{port}", client.mode)
    return json.loads(report)  # type: ignore[no-any-return]  # the script's report


@pytest.fixture(scope="module")
def reference(bundled: ServerProcess) -> np.ndarray:
    """The iris probabilities from a plain JSON request: what every client must see."""
    answer = httpx.post(f"{bundled.url}/v2/models/{MODEL}/infer", json=iris_request())
    assert answer.status_code == 200, answer.text
    probabilities = np.array(answer.json()["outputs"][0]["data"]).reshape(-1, 3)
    assert probabilities.argmax(axis=1).tolist() == IRIS_CLASSES
    return probabilities


@pytest.fixture(scope="module")
def seen(request: pytest.FixtureRequest, bundled: ServerProcess) -> tuple[Client, dict[str, Any]]:
    """What a client saw: one run per client and mode, shared by the tests below (which
    parametrize it indirectly with the clients they apply to)."""
    client: Client = request.param
    return client, run_client(client, bundled)


@each(CLIENTS)
def test_correct_iris_answer(seen: tuple[Client, dict[str, Any]], reference: np.ndarray) -> None:
    client, report = seen
    probabilities = np.array(report["probabilities"])
    assert probabilities.argmax(axis=1).tolist() == IRIS_CLASSES
    np.testing.assert_allclose(probabilities, reference, rtol=1e-6)
    assert report["datatype"] == "FP32"
    assert report["id"] == REQUEST_ID
    assert report["binary_output"] is client.binary


@each(CLIENTS)
def test_health(seen: tuple[Client, dict[str, Any]]) -> None:
    client, report = seen
    assert (report["live"], report["ready"], report["model_ready"]) == (True, True, True)
    if client.grpc:  # ModelReady of an unknown model is NOT_FOUND, not "false"
        assert report["unknown_model_ready"]["status"] == "NOT_FOUND"
    else:  # REST: 404, which the clients read as "not ready"
        assert report["unknown_model_ready"] is False


@each([client for client in CLIENTS if client.has_metadata])
def test_metadata(seen: tuple[Client, dict[str, Any]]) -> None:
    _, report = seen
    assert report["server_metadata"]["name"] == "oipserve"
    model = report["model_metadata"]
    assert (model["name"], model["versions"], model["platform"]) == (MODEL, ["1"], "numpy")
    (tensor,) = model["inputs"]
    assert (tensor["name"], tensor["datatype"]) == (INPUT, "FP32")
    assert [int(size) for size in tensor["shape"]] == [-1, 4]  # gRPC JSON gives int64 as text


@each(CLIENTS)
def test_errors_are_reported_and_the_server_stays_ready(
    seen: tuple[Client, dict[str, Any]],
) -> None:
    client, report = seen
    not_found, invalid = ("NOT_FOUND", "INVALID_ARGUMENT") if client.grpc else (404, 400)
    assert report["unknown_model"]["status"] == not_found
    assert f"'{UNKNOWN_MODEL}'" in report["unknown_model"]["message"]
    assert report["bad_request"]["status"] == invalid
    assert f"'{INPUT}'" in report["bad_request"]["message"]
    assert WRONG_DATATYPE in report["bad_request"]["message"]
    if "unknown_version" in report:
        assert report["unknown_version"]["status"] == not_found
        assert "'999'" in report["unknown_version"]["message"]
    assert report["ready_after"] is True
