"""The REST body limit (--http-max-body-mb), in process: 413 `{"error"}` answers whether the
size is declared or only found out while the body streams, on every route."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import orjson
import pytest
from starlette.requests import Request

from app.dataplane import DataPlane
from app.rest import create_app
from app.settings import ServerSettings

LIMIT_ERROR = "exceeds the limit of 1024 bytes (--http-max-body-mb / OIPSERVE_HTTP_MAX_BODY_MB)"


@pytest.fixture
async def limited(
    dataplane: DataPlane, settings: ServerSettings
) -> AsyncIterator[httpx.AsyncClient]:
    """The REST app with a 1 KB body limit, plus a plain FastAPI route that reads its body."""
    app = create_app(dataplane, settings.model_copy(update={"http_max_body_mb": 1 / 1024}))

    async def body_size(request: Request) -> dict[str, int]:
        return {"size": len(await request.body())}

    app.add_api_route("/body-size", body_size, methods=["POST"])
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://oipserve") as client:
        yield client


async def _chunks(count: int) -> AsyncIterator[bytes]:
    for _ in range(count):
        yield b"x" * 100


def _echo_request(count: int) -> bytes:
    return orjson.dumps(
        {"inputs": [{"name": "x", "datatype": "UINT8", "shape": [count], "data": [7] * count}]}
    )


async def test_body_under_the_limit_is_served(limited: httpx.AsyncClient) -> None:
    body = _echo_request(300)
    assert len(body) <= 1024
    answer = await limited.post("/v2/models/echo/infer", content=body)
    assert answer.status_code == 200, answer.text


async def test_inference_body_over_the_limit_is_413(limited: httpx.AsyncClient) -> None:
    body = _echo_request(600)
    answer = await limited.post("/v2/models/echo/infer", content=body)
    assert answer.status_code == 413
    assert answer.json() == {"error": f"request body of {len(body)} bytes {LIMIT_ERROR}"}
    assert answer.headers["connection"] == "close"


async def test_streamed_inference_body_over_the_limit_is_413(limited: httpx.AsyncClient) -> None:
    sent = []

    async def chunks() -> AsyncIterator[bytes]:
        async for chunk in _chunks(100):
            sent.append(chunk)
            yield chunk

    answer = await limited.post("/v2/models/echo/infer", content=chunks())
    assert answer.status_code == 413
    assert answer.json() == {"error": f"request body {LIMIT_ERROR}"}
    assert len(sent) == 11  # reading stopped at the first chunk past the limit


async def test_declared_oversize_body_is_413_on_any_route(limited: httpx.AsyncClient) -> None:
    answer = await limited.request("GET", "/v2/health/ready", content=b"x" * 2000)
    assert answer.status_code == 413
    assert answer.json() == {"error": f"request body of 2000 bytes {LIMIT_ERROR}"}


async def test_streamed_oversize_body_is_413_on_fastapi_routes(limited: httpx.AsyncClient) -> None:
    assert (await limited.post("/body-size", content=b"x" * 1000)).json() == {"size": 1000}
    answer = await limited.post("/body-size", content=_chunks(30))
    assert answer.status_code == 413
    assert answer.json() == {"error": f"request body {LIMIT_ERROR}"}
