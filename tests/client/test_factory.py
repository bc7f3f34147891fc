"""InferenceClientFactory: the URL's scheme picks the client; every call builds a new one."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from app.client import (
    InferenceClientFactory,
    InferenceGRPCClient,
    InferenceRESTClient,
    InferInput,
    InferRequest,
    RESTConfig,
)
from app.client.factory import grpc_seconds
from app.protocol.errors import InvalidInput
from app.server import Server


@pytest.mark.parametrize(
    ("url", "kind", "host"),
    [
        ("http://localhost:8080", InferenceRESTClient, "http://localhost:8080"),
        ("https://models.example.com/", InferenceRESTClient, "https://models.example.com"),
        ("grpc://localhost:8081", InferenceGRPCClient, "localhost:8081"),
        ("grpcs://models.example.com", InferenceGRPCClient, "models.example.com:443"),
        ("localhost:8081", InferenceGRPCClient, "localhost:8081"),
        ("HTTP://localhost:8080", InferenceRESTClient, "http://localhost:8080"),
        ("Https://models.example.com", InferenceRESTClient, "https://models.example.com"),
        ("GRPC://localhost:8081", InferenceGRPCClient, "localhost:8081"),
        ("GRPCS://models.example.com", InferenceGRPCClient, "models.example.com:443"),
    ],
)
async def test_scheme_picks_the_client(url: str, kind: type, host: str) -> None:
    client = InferenceClientFactory.get_inference_client(url)
    async with client:
        assert type(client) is kind
        assert client.host == host


async def test_no_hidden_cache() -> None:
    first = InferenceClientFactory.get_inference_client("localhost:1")
    second = InferenceClientFactory.get_inference_client("localhost:2")
    again = InferenceClientFactory.get_inference_client("localhost:1")
    rest = InferenceClientFactory.get_rest_client("http://localhost:1")
    for client in (first, second, again, rest):
        await client.close()
    assert len({id(first), id(second), id(again)}) == 3
    assert (first.host, second.host) == ("localhost:1", "localhost:2")


@pytest.mark.parametrize(
    ("url", "error", "message"),
    [
        ("http://127.0.0.1:99999", ValueError, "a REST server URL looks like http"),
        ("http://[::1", ValueError, r"'http://\[::1' is not a URL"),
        (None, TypeError, "url must be text, got None"),
    ],
)
def test_a_url_that_is_no_url_is_refused_as_the_client_is_made(
    url: Any, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        InferenceClientFactory.get_inference_client(url)


async def test_calls_that_cannot_be_sent_are_refused_before_sending() -> None:
    """Nothing listens on port 1: each error is the call's, not a connection's."""
    request = InferRequest("iris", [InferInput("x", [1], "FP32", [1.0])])
    async with InferenceRESTClient("http://127.0.0.1:1") as rest:
        for value in ("\u00e9", "a\nb"):
            with pytest.raises(InvalidInput, match="header 'x-a': names and values must be"):
                await rest.infer(request, headers={"x-a": value})
    async with InferenceGRPCClient("127.0.0.1:1") as grpc_client:
        for wrong in ({"model_name": "iris"}, None):
            with pytest.raises(TypeError, match="the request must be an InferRequest"):
                await grpc_client.infer(wrong)  # type: ignore[arg-type]


@pytest.mark.parametrize("url", ["grpc://localhost:8081/v2", "localhost:8081/models"])
def test_a_grpc_url_with_a_path_is_refused(url: str) -> None:
    with pytest.raises(ValueError, match="a gRPC server URL looks like host:port"):
        InferenceClientFactory.get_inference_client(url)


@pytest.mark.parametrize(
    ("timeout", "seconds"),
    [
        (5, 5),
        (None, None),
        (httpx.Timeout(5), 5.0),
        (httpx.Timeout(5, read=30), 30.0),
        (httpx.Timeout(5, read=None), None),
        ((1, 2, 3, 4), 4.0),
    ],
)
def test_a_rest_timeout_becomes_one_grpc_deadline(timeout: Any, seconds: float | None) -> None:
    assert grpc_seconds(timeout) == seconds


@pytest.mark.parametrize("timeout", [0.2, httpx.Timeout(0.2)], ids=["seconds", "httpx.Timeout"])
async def test_config_reaches_both_clients(server: Server, timeout: Any) -> None:  # noqa: ASYNC109
    config = RESTConfig(timeout=timeout, retries=0)
    rest = InferenceClientFactory.get_inference_client(
        f"http://127.0.0.1:{server.http_port}", config
    )
    grpc = InferenceClientFactory.get_inference_client(f"127.0.0.1:{server.grpc_port}", config)
    async with rest, grpc:
        assert isinstance(rest, InferenceRESTClient)
        assert rest.config is config
        assert await rest.is_model_ready("iris")
        assert await grpc.is_model_ready("iris")
        slow = InferRequest("slow", [InferInput("x", [1], "INT32", data=[1])])
        for client in (rest, grpc):
            with pytest.raises(TimeoutError):  # the config's timeout, on both
                await client.infer(slow)
