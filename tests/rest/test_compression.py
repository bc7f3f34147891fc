"""gzip both ways and CORS, over the real server and on the inference route: a gzip body is
read as the plain one, a bad or unknown encoding is a 400, an inflated body over the limit a
413; answers are compressed for clients that accept gzip once they reach the threshold
(0: never); CORS is off unless origins are given."""

from __future__ import annotations

import gzip

import httpx
import orjson
import pytest

from app.settings import ServerSettings
from tests.payloads import iris_request

INFER = "/v2/models/iris/infer"
JSON = {"content-type": "application/json"}


@pytest.fixture
def settings(settings: ServerSettings) -> ServerSettings:
    """A 64 KB body limit, gzip from 200 bytes, CORS for one origin."""
    return settings.model_copy(
        update={"http_max_body_mb": 1 / 16, "gzip_min_bytes": 200, "cors_origins": "https://a.test"}
    )


async def test_a_gzip_body_is_read_as_the_plain_one(served: httpx.AsyncClient) -> None:
    plain = await served.post(INFER, json=iris_request(id="z"))
    body = gzip.compress(orjson.dumps(iris_request(id="z")))
    zipped = await served.post(INFER, content=body, headers={**JSON, "content-encoding": "gzip"})
    assert zipped.status_code == 200, zipped.text
    assert zipped.json() == plain.json()


async def test_a_body_of_several_gzip_members_is_read_whole(served: httpx.AsyncClient) -> None:
    plain = orjson.dumps(iris_request(id="m"))
    half = len(plain) // 2
    body = gzip.compress(plain[:half]) + gzip.compress(plain[half:])
    zipped = await served.post(INFER, content=body, headers={**JSON, "content-encoding": "gzip"})
    assert (zipped.status_code, zipped.json()["id"]) == (200, "m")


@pytest.mark.parametrize(
    ("body", "encoding", "status", "message"),
    [
        (
            b"not gzip",
            "gzip",
            400,
            "the body is not valid gzip: Error -3 while decompressing data: incorrect header check",
        ),
        (
            gzip.compress(b"{}")[:-12],
            "gzip",
            400,
            "the body is not valid gzip: it ends before the gzip stream",
        ),
        (
            b"{}",
            "br",
            400,
            "Content-Encoding 'br' is not supported: send the body as it is or gzip-compressed",
        ),
        (
            gzip.compress(b"{}") + b"garbage",
            "gzip",
            400,
            "the body is not valid gzip after 1 gzip members: Error -3 while decompressing "
            "data: incorrect header check",
        ),
        (
            gzip.compress(b" " * 40_000) * 2,  # each member under the limit, both over it
            "gzip",
            413,
            "request body exceeds the limit of 65536 "
            "bytes (--http-max-body-mb / OIPSERVE_HTTP_MAX_BODY_MB)",
        ),
        (
            gzip.compress(b" " * 70_000),
            "gzip",
            413,
            "request body exceeds the limit of 65536 "
            "bytes (--http-max-body-mb / OIPSERVE_HTTP_MAX_BODY_MB)",
        ),
    ],
)
async def test_bodies_that_cannot_be_read(
    served: httpx.AsyncClient, body: bytes, encoding: str, status: int, message: str
) -> None:
    answer = await served.post(INFER, content=body, headers={**JSON, "content-encoding": encoding})
    assert (answer.status_code, answer.json()) == (status, {"error": message})
    assert (await served.post(INFER, json=iris_request())).status_code == 200


async def test_answers_are_compressed_for_clients_that_accept_gzip(
    served: httpx.AsyncClient,
) -> None:
    """iris' answer (two rows, ~250 bytes) passes the 200-byte threshold; an error does not."""
    zipped = await served.post(INFER, json=iris_request(), headers={"accept-encoding": "gzip"})
    plain = await served.post(INFER, json=iris_request(), headers={"accept-encoding": "identity"})
    assert zipped.headers["content-encoding"] == "gzip"
    assert int(zipped.headers["content-length"]) < len(plain.content)
    assert "content-encoding" not in plain.headers
    assert zipped.json()["outputs"] == plain.json()["outputs"]  # httpx inflates it
    small = await served.get("/v2/health/ready", headers={"accept-encoding": "gzip"})
    assert "content-encoding" not in small.headers
    assert small.json() == {"ready": True}


async def test_cors_answers_the_origins_given(served: httpx.AsyncClient) -> None:
    preflight = {"origin": "https://a.test", "access-control-request-method": "POST"}
    allowed = await served.options(INFER, headers=preflight)
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "https://a.test"
    answer = await served.post(INFER, json=iris_request(), headers={"origin": "https://a.test"})
    assert answer.headers["access-control-allow-origin"] == "https://a.test"
    other = await served.post(INFER, json=iris_request(), headers={"origin": "https://b.test"})
    assert other.status_code == 200
    assert "access-control-allow-origin" not in other.headers


@pytest.mark.parametrize("update", [{"gzip_min_bytes": 0, "cors_origins": ""}])
async def test_off_means_off(settings: ServerSettings, update: dict[str, object]) -> None:
    from app.server import Server

    server = Server(settings.model_copy(update=update))
    await server.start()
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.http_port}") as client:
            headers = {"accept-encoding": "gzip", "origin": "https://a.test"}
            answer = await client.post(INFER, json=iris_request(), headers=headers)
    finally:
        await server.stop(grace=1)
    assert answer.status_code == 200
    assert "content-encoding" not in answer.headers
    assert "access-control-allow-origin" not in answer.headers
