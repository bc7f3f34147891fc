"""curl and grpcurl (through server reflection, no proto files) against a real server: health,
metadata, inference, and the right error for an unknown model and a bad request."""

from __future__ import annotations

import json
import re
import subprocess
from typing import Any

import pytest

from tests.interop.clients.common import UNKNOWN_MODEL
from tests.process import ServerProcess, tool

IRIS_ROW = [5.1, 3.5, 1.4, 0.2]
pytestmark = pytest.mark.slow

REST_IRIS = {"inputs": [{"name": "input-0", "shape": [1, 4], "datatype": "FP32", "data": IRIS_ROW}]}
REST_FP64 = {"inputs": [{"name": "input-0", "shape": [1, 4], "datatype": "FP64", "data": IRIS_ROW}]}


def grpc_iris(model: str = "iris", datatype: str = "FP32") -> dict[str, Any]:
    contents = {"fp32_contents" if datatype == "FP32" else "fp64_contents": IRIS_ROW}
    tensor = {"name": "input-0", "datatype": datatype, "shape": [1, 4], "contents": contents}
    return {"model_name": model, "inputs": [tensor]}


def curl(server: ServerProcess, path: str, body: str | None = None) -> tuple[int, Any]:
    """`curl` GET (or POST of a JSON `body`); the status code and the parsed answer."""
    command = [tool("curl"), "-s", "-w", "\n%{http_code}", f"{server.url}{path}"]
    if body is not None:
        command += ["-H", "content-type: application/json", "-d", body]
    result = subprocess.run(command, capture_output=True, text=True, timeout=30, check=True)
    text, _, status = result.stdout.rpartition("\n")
    return int(status), json.loads(text)


def grpcurl(server: ServerProcess, *arguments: str, body: Any = None) -> tuple[str, Any]:
    """`grpcurl -plaintext` (reflection only); "OK" and the parsed answer (or the listing),
    or the gRPC code name and the error message."""
    data = ["-d", json.dumps(body)] if body is not None else []
    command = [tool("grpcurl"), "-plaintext", *data, server.grpc_target, *arguments]
    result = subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)
    if result.returncode == 0:
        return "OK", json.loads(result.stdout) if result.stdout.startswith("{") else result.stdout
    found = re.search(r"Code: (\w+)\s+Message: (.*)", result.stderr)
    assert found, result.stderr
    return found[1], found[2]


@pytest.mark.parametrize(
    ("path", "status", "expected"),
    [
        ("/v2/health/live", 200, {"live": True}),
        ("/v2/health/ready", 200, {"ready": True}),
        ("/v2/models/iris/ready", 200, {"name": "iris", "ready": True}),
        ("/v2/models/iris/versions/1/ready", 200, {"name": "iris", "ready": True}),
    ],
)
def test_curl_health(bundled: ServerProcess, path: str, status: int, expected: Any) -> None:
    assert curl(bundled, path) == (status, expected)


def test_curl_metadata(bundled: ServerProcess) -> None:
    status, server = curl(bundled, "/v2")
    assert (status, server["name"]) == (200, "oipserve")
    status, model = curl(bundled, "/v2/models/iris")
    assert (status, model["name"], model["versions"]) == (200, "iris", ["1"])
    assert model["inputs"] == [{"name": "input-0", "datatype": "FP32", "shape": [-1, 4]}]


@pytest.mark.parametrize(
    ("path", "body", "status", "named"),
    [
        (f"/v2/models/{UNKNOWN_MODEL}/infer", json.dumps(REST_IRIS), 404, [UNKNOWN_MODEL]),
        ("/v2/models/iris/versions/9/infer", json.dumps(REST_IRIS), 404, ["9"]),
        ("/v2/models/iris/infer", json.dumps(REST_FP64), 400, ["input-0", "FP64"]),
        ("/v2/models/iris/infer", '{"inputs": [', 400, []),
    ],
    ids=["unknown-model", "unknown-version", "wrong-datatype", "malformed-json"],
)
def test_curl_errors(
    bundled: ServerProcess, path: str, body: str, status: int, named: list[str]
) -> None:
    got, answer = curl(bundled, path, body)
    assert got == status
    assert set(answer) == {"error"}
    for name in named:
        assert f"'{name}'" in answer["error"] or name in answer["error"].split()
    assert curl(bundled, "/v2/health/ready") == (200, {"ready": True})


def test_grpcurl_lists_services_through_reflection(bundled: ServerProcess) -> None:
    status, listing = grpcurl(bundled, "list")
    assert status == "OK"
    assert {"inference.GRPCInferenceService", "grpc.health.v1.Health"} <= set(listing.split())
    status, methods = grpcurl(bundled, "list", "inference.GRPCInferenceService")
    assert status == "OK"
    for rpc in ["ServerLive", "ServerReady", "ModelReady", "ServerMetadata", "ModelMetadata"]:
        assert f"inference.GRPCInferenceService.{rpc}" in methods.split()


@pytest.mark.parametrize(
    ("method", "body", "expected"),
    [
        ("inference.GRPCInferenceService/ServerLive", None, {"live": True}),
        ("inference.GRPCInferenceService/ServerReady", None, {"ready": True}),
        ("inference.GRPCInferenceService/ModelReady", {"name": "iris"}, {"ready": True}),
        ("grpc.health.v1.Health/Check", {"service": "liveness"}, {"status": "SERVING"}),
        ("grpc.health.v1.Health/Check", {"service": "readiness"}, {"status": "SERVING"}),
        ("grpc.health.v1.Health/Check", None, {"status": "SERVING"}),
    ],
)
def test_grpcurl_health(bundled: ServerProcess, method: str, body: Any, expected: Any) -> None:
    assert grpcurl(bundled, method, body=body) == ("OK", expected)


def test_grpcurl_metadata(bundled: ServerProcess) -> None:
    status, server = grpcurl(bundled, "inference.GRPCInferenceService/ServerMetadata")
    assert (status, server["name"]) == ("OK", "oipserve")
    status, model = grpcurl(
        bundled, "inference.GRPCInferenceService/ModelMetadata", body={"name": "iris"}
    )
    assert (status, model["name"], model["versions"]) == ("OK", "iris", ["1"])
    assert model["inputs"] == [{"name": "input-0", "datatype": "FP32", "shape": ["-1", "4"]}]


@pytest.mark.parametrize(
    ("body", "code", "named"),
    [
        (grpc_iris(model=UNKNOWN_MODEL), "NotFound", [UNKNOWN_MODEL]),
        ({**grpc_iris(), "model_version": "9"}, "NotFound", ["9"]),
        (grpc_iris(datatype="FP64"), "InvalidArgument", ["input-0", "FP64"]),
    ],
    ids=["unknown-model", "unknown-version", "wrong-datatype"],
)
def test_grpcurl_errors(bundled: ServerProcess, body: Any, code: str, named: list[str]) -> None:
    status, message = grpcurl(bundled, "inference.GRPCInferenceService/ModelInfer", body=body)
    assert status == code
    for name in named:
        assert f"'{name}'" in message or name in message.split()
    assert grpcurl(bundled, "inference.GRPCInferenceService/ServerReady") == (
        "OK",
        {"ready": True},
    )
