"""Every REST error is `{"error": "..."}` with the status of the shared table: protocol errors,
unknown routes, wrong methods; FastAPI's 422 `{"detail": ...}` never reaches a client."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from pydantic import BaseModel

from app.dataplane import DataPlane
from app.rest import create_app
from app.settings import ServerSettings
from tests.payloads import iris_request

ROUTES_GET = [
    "/v2",
    "/v2/health/live",
    "/v2/health/ready",
    "/v2/models/iris",
    "/v2/models/iris/ready",
    "/v2/models/iris/versions/1",
    "/v2/models/iris/versions/1/ready",
]


class Point(BaseModel):
    x: int


ROUTES_POST = ["/v2/models/iris/infer", "/v2/models/iris/versions/1/infer"]


def _error(answer: httpx.Response, status: int) -> str:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/json"
    body = answer.json()
    assert list(body) == ["error"], body
    assert isinstance(body["error"], str)
    assert body["error"]
    return str(body["error"])


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1"),
        ("GET", "/v1/models/iris/more"),
        ("GET", "/v2/nope"),
        ("POST", "/v2/models/iris/predict"),
        ("GET", "/v2/models/iris/versions"),
        ("GET", "/v2/models/iris/versions/1/infer/more"),
    ],
)
async def test_unknown_routes(rest: httpx.AsyncClient, method: str, path: str) -> None:
    message = _error(await rest.request(method, path), 404)
    assert message == f"no route for {method} {path}"


@pytest.mark.parametrize("path", ROUTES_GET)
@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
async def test_wrong_methods_on_get_routes(rest: httpx.AsyncClient, path: str, method: str) -> None:
    answer = await rest.request(method, path, json={})
    assert _error(answer, 405) == "Method Not Allowed"
    assert answer.headers["allow"] == "GET"


@pytest.mark.parametrize("path", ROUTES_POST)
@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
async def test_wrong_methods_on_infer(rest: httpx.AsyncClient, path: str, method: str) -> None:
    answer = await rest.request(method, path)
    assert _error(answer, 405) == "Method Not Allowed"
    assert answer.headers["allow"] == "POST"


@pytest.mark.parametrize(
    ("path", "status", "message"),
    [
        ("/v2/models/nope", 404, "model 'nope' not found"),
        ("/v2/models/nope/ready", 404, "model 'nope' not found"),
        ("/v2/models/iris/versions/7", 404, "model 'iris' has no version '7' (versions: '1')"),
        (
            "/v2/models/iris/versions/7/ready",
            404,
            "model 'iris' has no version '7' (versions: '1')",
        ),
    ],
)
async def test_unknown_models_and_versions(
    rest: httpx.AsyncClient, path: str, status: int, message: str
) -> None:
    assert _error(await rest.get(path), status) == message
    infer = await rest.post(f"{path.removesuffix('/ready')}/infer", json=iris_request())
    assert _error(infer, status) == message


@pytest.mark.parametrize(
    ("headers", "content"),
    [
        ({"content-type": "text/plain"}, b"not json"),
        ({"content-type": "application/x-www-form-urlencoded"}, b"a=1&b=2"),
        ({"content-type": "multipart/form-data; boundary=x"}, b"--x--"),
        ({}, b""),
        ({"inference-header-content-length": "abc"}, b"{}"),
    ],
)
async def test_odd_bodies_are_400_never_422(
    rest: httpx.AsyncClient, headers: dict[str, str], content: bytes
) -> None:
    answer = await rest.post("/v2/models/iris/infer", content=content, headers=headers)
    _error(answer, 400)


async def test_query_strings_and_odd_paths_never_422(rest: httpx.AsyncClient) -> None:
    for path in [*ROUTES_GET, "/v2/models/iris?version=abc", "/v2/health/ready?x=1&x=2"]:
        answer = await rest.get(path)
        assert answer.status_code in (200, 503), (path, answer.text)
        assert "detail" not in answer.json()
    long_name = "m" * 5000
    assert _error(await rest.get(f"/v2/models/{long_name}"), 404).startswith("model 'mmm")


@pytest.fixture
async def extended(
    dataplane: DataPlane, settings: ServerSettings
) -> AsyncIterator[httpx.AsyncClient]:
    """The REST app plus two routes of the kind later routers add: one FastAPI validates, one
    with a bug. App exceptions are not re-raised into the test, as a server would not."""
    application = create_app(dataplane, settings)

    @application.get("/typed/{number}")
    async def typed(number: int) -> dict[str, int]:
        return {"number": number}

    @application.post("/point")
    async def point(body: Point) -> dict[str, int]:
        return {"x": body.x}

    @application.get("/bug")
    async def bug() -> None:
        raise KeyError("oops")

    transport = httpx.ASGITransport(app=application, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://oipserve") as client:
        yield client


async def test_fastapi_validation_is_400_not_422(extended: httpx.AsyncClient) -> None:
    assert (await extended.get("/typed/3")).json() == {"number": 3}
    message = _error(await extended.get("/typed/three"), 400)
    assert message.startswith("invalid request: path.number: Input should be a valid integer")


@pytest.mark.parametrize(
    ("body", "kind"), [(b"[1, 2]", "list"), (b'"str"', "str"), (b"null", "null")]
)
async def test_bodies_that_are_not_objects(
    extended: httpx.AsyncClient, body: bytes, kind: str
) -> None:
    headers = {"content-type": "application/json"}
    assert (await extended.post("/point", content=b'{"x": 1}', headers=headers)).json() == {"x": 1}
    answer = await extended.post("/point", content=body, headers=headers)
    assert _error(answer, 400) == f"body must be a JSON object, got {kind}"
    answer = await extended.post("/point", content=b'{"x": "one"}', headers=headers)
    assert _error(answer, 400).startswith(
        "invalid request: body.x: Input should be a valid integer"
    )


async def test_bugs_are_500_without_details(
    extended: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    assert _error(await extended.get("/bug"), 500) == "internal error: KeyError"
    assert "unexpected error on GET /bug" in caplog.text
