"""The inference routes answer inside the middleware stack: the server's own middleware and a
user's see /infer as they see every route, and can change its answer."""

from __future__ import annotations

import httpx
import pytest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.dataplane import DataPlane
from app.rest import create_app
from app.settings import ServerSettings
from tests.payloads import iris_request


class Stamp:
    """A user's middleware: records each request's path, adds a header to every answer, and
    refuses requests without a token as an auth middleware would."""

    def __init__(self, app: ASGIApp, seen: list[str]) -> None:
        self.app = app
        self.seen = seen

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        self.seen.append(f"{scope['method']} {scope['path']}")
        if (b"authorization", b"Bearer ok") not in scope["headers"]:
            await send({"type": "http.response.start", "status": 401, "headers": []})
            await send({"type": "http.response.body", "body": b"no token"})
            return

        async def stamped(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message["headers"], (b"x-stamp", b"yes")]
            await send(message)

        await self.app(scope, receive, stamped)


@pytest.fixture
async def stamped(
    dataplane: DataPlane, settings: ServerSettings
) -> tuple[httpx.AsyncClient, list[str]]:
    app = create_app(dataplane, settings)
    seen: list[str] = []
    app.add_middleware(Stamp, seen=seen)
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://test")
    return client, seen


async def test_a_users_middleware_sees_and_changes_inference(
    stamped: tuple[httpx.AsyncClient, list[str]],
) -> None:
    client, seen = stamped
    token = {"authorization": "Bearer ok"}
    async with client:
        answer = await client.post("/v2/models/iris/infer", json=iris_request(), headers=token)
        versioned = await client.post(
            "/v2/models/iris/versions/1/infer", json=iris_request(), headers=token
        )
        ready = await client.get("/v2/health/ready", headers=token)
        refused = await client.post("/v2/models/iris/infer", json=iris_request())
    assert (answer.status_code, answer.headers["x-stamp"]) == (200, "yes")
    assert answer.json()["model_name"] == "iris"
    assert versioned.headers["x-stamp"] == "yes"
    assert ready.headers["x-stamp"] == "yes"
    assert (refused.status_code, refused.content) == (401, b"no token")
    assert seen == [
        "POST /v2/models/iris/infer",
        "POST /v2/models/iris/versions/1/infer",
        "GET /v2/health/ready",
        "POST /v2/models/iris/infer",
    ]


async def test_other_methods_on_an_inference_path_go_to_the_router(
    rest: httpx.AsyncClient,
) -> None:
    answer = await rest.get("/v2/models/iris/infer")
    assert answer.status_code == 405
    assert "error" in answer.json()


async def test_a_bug_in_a_route_is_a_json_500_and_goes_no_further(
    dataplane: DataPlane, settings: ServerSettings
) -> None:
    app = create_app(dataplane, settings)

    async def broken() -> None:
        raise RuntimeError("a bug")

    app.add_api_route("/broken", broken)
    transport = httpx.ASGITransport(app)  # raises what reaches the server
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        answer = await client.get("/broken")
        again = await client.get("/v2/health/live")
    assert (answer.status_code, answer.json()) == (500, {"error": "internal error: RuntimeError"})
    assert again.status_code == 200
