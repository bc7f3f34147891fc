"""The model repository extension over REST, in process."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.payloads import iris_request
from tests.repo import add_model


@pytest.fixture
def repository(repository: Path) -> Path:
    add_model(repository, "broken", "tests.toys:BadLoad")
    (repository / "garbled").mkdir()
    (repository / "garbled" / "model-settings.json").write_text("{not json")
    return repository


async def test_index_lists_every_model_version(rest: httpx.AsyncClient) -> None:
    for body in ({}, {"content": b""}, {"json": {"ready": False}}):
        answer = await rest.post("/v2/repository/index", **body)
        assert answer.status_code == 200, answer.text
        rows = {(m["name"], m["version"]): (m["state"], m["reason"]) for m in answer.json()}
        assert rows["iris", "1"] == ("READY", "")
        assert rows["versioned", "10"] == ("READY", "")
        assert rows["broken", "1"] == ("UNAVAILABLE", "FileNotFoundError: weights.bin is missing")
    ready = await rest.post("/v2/repository/index", content=b'{"ready": true}')
    assert "broken" not in {m["name"] for m in ready.json()}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{", "malformed JSON"),
        (b"[1]", "body must be a JSON object, got list"),
        (b'{"ready": "maybe"}', "invalid request: ready: "),
    ],
)
async def test_bad_index_bodies_are_400(rest: httpx.AsyncClient, body: bytes, message: str) -> None:
    answer = await rest.post("/v2/repository/index", content=body)
    assert answer.status_code == 400
    assert answer.json()["error"].startswith(message)


@pytest.mark.parametrize(
    "path",
    [
        "/v2/repository/index",
        "/v2/repository/models/iris/load",
        "/v2/repository/models/iris/unload",
        "/v2/models/iris/infer",
    ],
)
@pytest.mark.parametrize(
    ("body", "kind"), [(b"[1, 2]", "list"), (b'"str"', "str"), (b"null", "null")]
)
async def test_bodies_that_are_not_objects_are_400(
    rest: httpx.AsyncClient, path: str, body: bytes, kind: str
) -> None:
    answer = await rest.post(path, content=body)
    assert answer.status_code == 400
    assert answer.json() == {"error": f"body must be a JSON object, got {kind}"}


async def test_unload_then_load_a_model(rest: httpx.AsyncClient) -> None:
    unloaded = await rest.post("/v2/repository/models/iris/unload")
    assert (unloaded.status_code, unloaded.content) == (200, b"")
    gone = await rest.post("/v2/models/iris/infer", json=iris_request())
    assert gone.status_code == 404
    assert gone.json() == {"error": "model 'iris' is unloaded"}
    ready = await rest.get("/v2/models/iris/ready")
    assert (ready.status_code, ready.json()) == (400, {"name": "iris", "ready": False})
    index = (await rest.post("/v2/repository/index")).json()
    assert {"name": "iris", "version": "", "state": "UNAVAILABLE", "reason": "unloaded"} in index
    loaded = await rest.post("/v2/repository/models/iris/load", json={})
    assert (loaded.status_code, loaded.content) == (200, b"")
    assert (await rest.post("/v2/models/iris/infer", json=iris_request())).status_code == 200


async def test_unloading_twice_is_fine(rest: httpx.AsyncClient) -> None:
    for _ in range(2):  # as in Triton: an unloaded model unloads again without complaint
        answer = await rest.post("/v2/repository/models/iris/unload")
        assert (answer.status_code, answer.content) == (200, b"")
    index = (await rest.post("/v2/repository/index")).json()
    assert {"name": "iris", "version": "", "state": "UNAVAILABLE", "reason": "unloaded"} in index


async def test_a_list_body_on_load_is_400(rest: httpx.AsyncClient) -> None:
    answer = await rest.post("/v2/repository/models/iris/load", json=[])
    assert answer.status_code == 400


@pytest.mark.parametrize(
    ("path", "body", "status", "message"),
    [
        ("/models/nope/load", {}, 404, "model 'nope' has no folder with a model-settings.json"),
        ("/models/nope/unload", {}, 404, "model 'nope' not found"),
        ("/models/broken/load", {}, 500, "model 'broken' failed to load: version '1': File"),
        ("/models/garbled/load", {}, 400, "model 'garbled' cannot be loaded: "),
        ("/models/iris/load", {"parameters": {"config": "{}"}}, 501, "load parameter 'config'"),
        ("/models/iris/load", {"parameters": 3}, 400, "invalid request: parameters: "),
    ],
)
async def test_load_and_unload_errors(
    rest: httpx.AsyncClient, path: str, body: dict[str, object], status: int, message: str
) -> None:
    answer = await rest.post("/v2/repository" + path, json=body)
    assert answer.status_code == status
    assert answer.json()["error"].startswith(message)
    assert (await rest.get("/v2/health/live")).status_code == 200


async def test_repository_routes_are_documented(rest: httpx.AsyncClient) -> None:
    paths = (await rest.get("/openapi.json")).json()["paths"]
    for path in ["/v2/repository/index", "/v2/repository/models/{model_name}/load"]:
        body = paths[path]["post"]["requestBody"]["content"]["application/json"]
        assert "properties" in body["schema"]
