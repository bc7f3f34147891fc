"""Every RESTConfig setting takes effect: each test shows the outcome with and without it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from hypercorn.asyncio import serve as hypercorn_serve
from hypercorn.config import Config as HypercornConfig

from app.client import InferenceRESTClient, InferInput, InferRequest, RESTConfig, ServerUnreachable
from app.client.http import backoff
from app.dataplane import DataPlane
from app.protocol.errors import DeadlineExceeded, InvalidInput, ModelNotReady
from app.rest import create_app
from app.server import Server
from app.settings import ServerSettings
from tests.client.conftest import SLOW_SECONDS
from tests.client.servers import HOST, Certificates, free_port, uvicorn_server
from tests.payloads import IRIS_CLASSES, IRIS_ROWS

ASGIApp = Any


def iris(binary: bool = False) -> InferRequest:
    tensor = InferInput("input-0", [2, 4], "FP32")
    tensor.set_data_from_numpy(IRIS_ROWS, binary_data=binary)
    return InferRequest("iris", [tensor])


def slow() -> InferRequest:
    return InferRequest("slow", [InferInput("x", [1], "INT32", data=[7])])


def _classes(response: Any) -> list[int]:
    return list(response.outputs[0].as_numpy().argmax(axis=1).tolist())


@pytest.fixture
def app(dataplane: DataPlane, settings: ServerSettings) -> ASGIApp:
    return create_app(dataplane, settings)


def test_protocol_must_be_v1_or_v2() -> None:
    assert RESTConfig(protocol="V1").protocol == "v1"
    with pytest.raises(ValueError, match="protocol must be one of v1, v2, got 'v3'"):
        RESTConfig(protocol="v3")
    with pytest.raises(ValueError, match="retries must be >= 0"):
        RESTConfig(retries=-1)


async def test_protocol_picks_the_api(app: ASGIApp) -> None:
    transport = httpx.ASGITransport(app=app)
    async with InferenceRESTClient("http://oipserve", RESTConfig(transport=transport)) as v2:
        assert _classes(await v2.infer(iris())) == IRIS_CLASSES
    v1_config = RESTConfig(transport=transport, protocol="v1")
    async with InferenceRESTClient("http://oipserve", v1_config) as v1:
        assert v1.protocol_version == "v1"
        predictions = (await v1.infer(iris())).get_output_by_name("predictions")
        assert predictions is not None
        assert predictions.as_numpy().argmax(axis=1).tolist() == IRIS_CLASSES


async def test_transport_is_injected(app: ASGIApp) -> None:
    config = RESTConfig(transport=httpx.ASGITransport(app=app))
    async with InferenceRESTClient("http://oipserve.invalid", config) as client:
        assert await client.is_server_ready()
    async with InferenceRESTClient("http://oipserve.invalid", RESTConfig(retries=0)) as client:
        with pytest.raises(ServerUnreachable):
            await client.is_server_ready()


def test_backoff_is_exponential_and_capped() -> None:
    assert [backoff(n) for n in range(6)] == [0.1, 0.2, 0.4, 0.8, 1.6, 2.0]


class CountingTransport(httpx.AsyncBaseTransport):
    """A real HTTP transport that counts attempts and signals the first one's end."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.attempts = 0
        self.first_done = asyncio.Event()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.attempts += 1
        try:
            return await self.inner.handle_async_request(request)
        finally:
            self.first_done.set()

    async def aclose(self) -> None:
        await self.inner.aclose()


async def test_retries_reach_a_server_that_comes_up_after_the_first_attempt(app: ASGIApp) -> None:
    port, counting = free_port(), CountingTransport()
    config = RESTConfig(transport=counting, retries=3)
    async with InferenceRESTClient(f"http://{HOST}:{port}", config) as client:
        call = asyncio.create_task(client.infer(iris()))
        await counting.first_done.wait()
        async with uvicorn_server(app, port=port):
            assert _classes(await call) == IRIS_CLASSES
    assert counting.attempts >= 2


async def test_without_retries_a_server_that_is_down_is_unreachable() -> None:
    counting = CountingTransport()
    config = RESTConfig(transport=counting, retries=0)
    async with InferenceRESTClient(f"http://{HOST}:{free_port()}", config) as client:
        with pytest.raises(ServerUnreachable) as caught:
            await client.infer(iris())
    assert isinstance(caught.value, ConnectionError)
    assert counting.attempts == 1


def unavailable_first(app: ASGIApp, times: int) -> ASGIApp:
    """`app`, except that its first `times` requests get a 503."""
    left = [times]

    async def wrapped(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and left[0] > 0:
            left[0] -= 1
            headers = [(b"content-type", b"application/json")]
            await send({"type": "http.response.start", "status": 503, "headers": headers})
            await send({"type": "http.response.body", "body": b'{"error": "warming up"}'})
            return
        await app(scope, receive, send)

    return wrapped


async def test_retries_ride_out_503_answers(app: ASGIApp) -> None:
    transport = httpx.ASGITransport(app=unavailable_first(app, times=2))
    async with InferenceRESTClient("http://oipserve", RESTConfig(transport, retries=2)) as client:
        assert _classes(await client.infer(iris())) == IRIS_CLASSES
    transport = httpx.ASGITransport(app=unavailable_first(app, times=1))
    async with InferenceRESTClient("http://oipserve", RESTConfig(transport, retries=0)) as client:
        with pytest.raises(ModelNotReady, match="warming up"):
            await client.infer(iris())


@pytest.mark.parametrize("timeout", [0.2, httpx.Timeout(0.2)], ids=["seconds", "httpx.Timeout"])
async def test_timeout_ends_a_slow_call(server: Server, timeout: Any) -> None:  # noqa: ASYNC109
    url = f"http://{HOST}:{server.http_port}"
    async with InferenceRESTClient(url, RESTConfig(timeout=timeout)) as client:
        with pytest.raises(DeadlineExceeded) as caught:
            await client.infer(slow())
        assert isinstance(caught.value, asyncio.TimeoutError)
        assert (await client.infer(slow(), timeout=SLOW_SECONDS * 5))["x"].as_numpy() == [7]
    async with InferenceRESTClient(url) as client:
        assert (await client.infer(slow()))["x"].as_numpy() == [7]
        with pytest.raises(TimeoutError):
            await client.infer(slow(), timeout=0.2)


class TimeoutRecorder(httpx.AsyncHTTPTransport):
    """httpx's own network transport, recording the timeouts httpx gives each request."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[dict[str, float | None]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request.extensions["timeout"])
        return await super().handle_async_request(request)


async def test_timeout_none_waits_as_long_as_it_takes(server: Server) -> None:
    """None is no limit, not the 60 s default (which the slow model would not show): the
    timeouts each request gets say so, and a short one fails where None waits."""
    url = f"http://{HOST}:{server.http_port}"
    unlimited = dict.fromkeys(("connect", "read", "write", "pool"), None)
    for timeout, expected in ((60, dict.fromkeys(unlimited, 60)), (None, unlimited)):
        recorder = TimeoutRecorder()
        async with InferenceRESTClient(url, RESTConfig(recorder, timeout=timeout)) as client:
            assert (await client.infer(slow()))["x"].as_numpy() == [7]
        assert recorder.seen == [expected]
    recorder = TimeoutRecorder()
    async with InferenceRESTClient(url, RESTConfig(recorder, timeout=0.2)) as client:
        with pytest.raises(DeadlineExceeded):
            await client.infer(slow())
        assert (await client.infer(slow(), timeout=None))["x"].as_numpy() == [7]
    assert recorder.seen == [dict.fromkeys(unlimited, 0.2), unlimited]


async def test_verify_trusts_the_test_ca(app: ASGIApp, certificates: Certificates) -> None:
    async with uvicorn_server(app, tls=certificates) as port:
        url = f"https://{HOST}:{port}"
        for verify in (str(certificates.ca), ssl.create_default_context(cafile=certificates.ca)):
            async with InferenceRESTClient(url, RESTConfig(verify=verify)) as client:
                assert _classes(await client.infer(iris())) == IRIS_CLASSES
        async with InferenceRESTClient(url, RESTConfig(verify=False)) as client:
            assert await client.is_server_ready()
        async with InferenceRESTClient(url, RESTConfig(retries=0)) as client:
            with pytest.raises(ServerUnreachable, match="CERTIFICATE_VERIFY_FAILED"):
                await client.is_server_ready()


async def test_cert_gives_mutual_tls(app: ASGIApp, certificates: Certificates) -> None:
    async with uvicorn_server(app, tls=certificates, mutual=True) as port:
        url, ca = f"https://{HOST}:{port}", str(certificates.ca)
        pair = (str(certificates.client_cert), str(certificates.client_key))
        for cert in (pair, str(certificates.client_both)):
            async with InferenceRESTClient(url, RESTConfig(verify=ca, cert=cert)) as client:
                assert _classes(await client.infer(iris())) == IRIS_CLASSES
        async with InferenceRESTClient(url, RESTConfig(verify=ca, retries=0)) as client:
            with pytest.raises(ServerUnreachable):
                await client.infer(iris())


def recording_versions(app: ASGIApp, seen: list[str]) -> ASGIApp:
    async def wrapped(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            seen.append(scope["http_version"])
        await app(scope, receive, send)

    return wrapped


@contextlib.asynccontextmanager
async def hypercorn_tls(app: ASGIApp, certificates: Certificates) -> AsyncIterator[int]:
    """An HTTP/2-capable server (hypercorn, TLS with ALPN) on a free port."""
    port = free_port()
    config = HypercornConfig()
    config.bind = [f"{HOST}:{port}"]
    config.certfile, config.keyfile = str(certificates.server_cert), str(certificates.server_key)
    config.accesslog = config.errorlog = None
    stop = asyncio.Event()
    task = asyncio.create_task(hypercorn_serve(app, config, shutdown_trigger=stop.wait))
    async with InferenceRESTClient(f"https://{HOST}:{port}", RESTConfig(verify=False)) as probe:
        for _ in range(100):
            with contextlib.suppress(ServerUnreachable):
                if await probe.is_server_live():
                    break
    try:
        yield port
    finally:
        stop.set()
        await task


async def test_http2_is_negotiated_when_asked(app: ASGIApp, certificates: Certificates) -> None:
    seen: list[str] = []
    async with hypercorn_tls(recording_versions(app, seen), certificates) as port:
        url, ca = f"https://{HOST}:{port}", str(certificates.ca)
        for http2 in (True, False):
            seen.clear()
            async with InferenceRESTClient(url, RESTConfig(http2=http2, verify=ca)) as client:
                assert _classes(await client.infer(iris())) == IRIS_CLASSES
            assert set(seen) == ({"2"} if http2 else {"1.1"})


def requiring_auth(app: ASGIApp, expected: str) -> ASGIApp:
    async def wrapped(scope: dict[str, Any], receive: Any, send: Any) -> None:
        headers = dict(scope.get("headers", []))
        if scope["type"] == "http" and headers.get(b"authorization") != expected.encode():
            await send({"type": "http.response.start", "status": 401, "headers": []})
            await send({"type": "http.response.body", "body": b'{"error": "who are you?"}'})
            return
        await app(scope, receive, send)

    return wrapped


async def test_auth_is_sent(app: ASGIApp) -> None:
    auth = httpx.BasicAuth("ada", "secret")
    expected = auth._auth_header  # the header httpx computes for these credentials
    transport = httpx.ASGITransport(app=requiring_auth(app, expected))
    config = RESTConfig(transport=transport, auth=auth)
    async with InferenceRESTClient("http://oipserve", config) as client:
        assert _classes(await client.infer(iris())) == IRIS_CLASSES
    async with InferenceRESTClient("http://oipserve", RESTConfig(transport=transport)) as client:
        with pytest.raises(InvalidInput, match="who are you"):
            await client.infer(iris())


async def test_verbose_logs_requests(app: ASGIApp, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="oipserve.client")
    transport = httpx.ASGITransport(app=app)
    for verbose in (False, True):
        caplog.clear()
        config = RESTConfig(transport=transport, verbose=verbose)
        async with InferenceRESTClient("http://oipserve", config) as client:
            await client.infer(iris())
        lines = [r.getMessage() for r in caplog.records if r.name == "oipserve.client"]
        if verbose:
            assert any("POST http://oipserve/v2/models/iris/infer" in line for line in lines)
            assert any("-> 200" in line for line in lines)
        else:
            assert lines == []
