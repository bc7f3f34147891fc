"""InferenceClientFactory: the URL's scheme picks the client; every call builds a new one."""

from __future__ import annotations

import pytest

from app.client import (
    InferenceClientFactory,
    InferenceGRPCClient,
    InferenceRESTClient,
    InferInput,
    InferRequest,
    RESTConfig,
)
from app.server import Server


@pytest.mark.parametrize(
    ("url", "kind", "host"),
    [
        ("http://localhost:8080", InferenceRESTClient, "http://localhost:8080"),
        ("https://models.example.com/", InferenceRESTClient, "https://models.example.com"),
        ("grpc://localhost:8081", InferenceGRPCClient, "localhost:8081"),
        ("grpcs://models.example.com", InferenceGRPCClient, "models.example.com:443"),
        ("localhost:8081", InferenceGRPCClient, "localhost:8081"),
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


async def test_config_reaches_both_clients(server: Server) -> None:
    config = RESTConfig(timeout=0.2, retries=0)
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
