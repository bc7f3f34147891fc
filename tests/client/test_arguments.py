"""Arguments in KServe's positions work; a misplaced one is a TypeError naming the parameter,
not a failure deep inside httpx or grpc (or a silent misuse)."""

from __future__ import annotations

import math

import pytest

from app.client import InferenceGRPCClient, InferenceRESTClient, InferInput, InferRequest
from app.server import Server


def iris() -> InferRequest:
    return InferRequest("iris", [InferInput("input-0", [1, 4], "FP32", data=[5.1, 3.5, 1.4, 0.2])])


async def test_grpc_positions_are_kserves(grpc_client: InferenceGRPCClient) -> None:
    """KServe: is_model_ready(model_name, timeout, headers); the version is ours, by keyword."""
    assert await grpc_client.is_model_ready("iris", 5, [("x-a", "b")])
    assert await grpc_client.is_model_ready("versioned", version="2")
    assert (await grpc_client.model_metadata("versioned", version="2")).versions == ["2"]
    with pytest.raises(TypeError, match=r"is_model_ready\(\): timeout must be .* version="):
        await grpc_client.is_model_ready("iris", "1")  # type: ignore[arg-type]  # the trap
    with pytest.raises(TypeError, match=r"model_metadata\(\): timeout must be"):
        await grpc_client.model_metadata("iris", "1")  # type: ignore[arg-type]  # the trap
    with pytest.raises(TypeError, match="positional"):
        await grpc_client.is_model_ready("iris", 5, None, "1")  # type: ignore[call-arg]  # keyword-only
    with pytest.raises(TypeError, match=r"infer\(\): headers must be .* pairs"):
        await grpc_client.infer(iris(), 5, "x-a")  # type: ignore[arg-type]  # the trap
    for never in (math.nan, 0, -1.0):  # as over REST
        with pytest.raises(ValueError, match=r"infer\(\): timeout must be more than 0 seconds"):
            await grpc_client.infer(iris(), never)


async def test_rest_positions_are_kserves(rest_client: InferenceRESTClient, server: Server) -> None:
    """KServe: infer(base_url, data, model_name, headers, response_headers, ...);
    is_model_ready(base_url, model_name, headers, timeout)."""
    base = f"http://127.0.0.1:{server.http_port}"
    seen: dict[str, str] = {}
    response = await rest_client.infer(base, iris(), "iris", {"x-a": "b"}, seen)
    assert response.model_name == "iris"
    assert "content-type" in seen
    assert await rest_client.is_model_ready(base, "iris", {"x-a": "b"}, 5)
    assert await rest_client.is_model_ready("versioned", "2", {"x-a": "b"}, 5)
    with pytest.raises(TypeError, match=r"infer\(\): data was given besides the request"):
        await rest_client.infer(iris(), {"x-a": "b"})
    with pytest.raises(TypeError, match=r"infer\(\): headers must be a Mapping"):
        await rest_client.infer(iris(), headers=[("x-a", "b")])  # type: ignore[call-overload]  # the trap
    with pytest.raises(TypeError, match=r"infer\(\): timeout must be"):
        await rest_client.infer(iris(), timeout="1")  # type: ignore[call-overload]  # the trap
    with pytest.raises(TypeError, match="positional"):
        await rest_client.infer(iris(), None, None, None, None, 5)  # type: ignore[call-overload]  # KServe's is_graph_endpoint
    with pytest.raises(TypeError, match=r"is_model_ready\(\): version must be a str"):
        await rest_client.is_model_ready("iris", {"x-a": "b"})  # type: ignore[arg-type]  # the trap
    with pytest.raises(TypeError, match=r"is_server_ready\(\): headers must be a Mapping"):
        await rest_client.is_server_ready(None, [("x-a", "b")])  # type: ignore[arg-type]  # the trap
