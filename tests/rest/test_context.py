"""Request ids, X- headers, timeouts and client disconnects over REST."""

from __future__ import annotations

import asyncio
import logging
import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.dataplane import DataPlane
from app.server import Server
from tests.payloads import IRIS_ROWS, iris_request
from tests.repo import add_model
from tests.toys import recorded

PARAMS_BODY = {"inputs": [{"name": "a", "shape": [1], "datatype": "INT32", "data": [7]}]}


@pytest.fixture
def repository(repository: Path) -> Path:
    add_model(repository, "slow", "tests.toys:Recorder", parameters={"seconds": 5})
    add_model(repository, "bad", "tests.toys:BadLoad")
    return repository


async def test_request_id_header_is_echoed(rest: httpx.AsyncClient) -> None:
    answer = await rest.post(
        "/v2/models/iris/infer", json=iris_request(id="body"), headers={"X-Request-ID": "h-1"}
    )
    assert answer.headers["x-request-id"] == "h-1"
    assert answer.json()["id"] == "h-1"


async def test_body_id_or_a_new_one_is_echoed(rest: httpx.AsyncClient) -> None:
    answer = await rest.post("/v2/models/iris/infer", json=iris_request(id="b-1"))
    assert answer.headers["x-request-id"] == answer.json()["id"] == "b-1"
    fresh = await rest.post("/v2/models/iris/infer", json=iris_request())
    assert fresh.headers["x-request-id"] == fresh.json()["id"]
    again = await rest.post("/v2/models/iris/infer", json=iris_request())
    assert again.json()["id"] != fresh.json()["id"]


async def test_x_headers_reach_the_predictor_and_come_back(rest: httpx.AsyncClient) -> None:
    answer = await rest.post(
        "/v2/models/params/infer", json=PARAMS_BODY, headers={"X-Tenant": "acme", "X-B3": "1"}
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["parameters"] == {"x-tenant": "acme", "x-b3": "1"}
    assert (answer.headers["x-tenant"], answer.headers["x-b3"]) == ("acme", "1")
    plain = await rest.post("/v2/models/params/infer", json=PARAMS_BODY)
    assert "parameters" not in plain.json()


@pytest.mark.parametrize(
    ("path", "content", "status"),
    [
        ("/v2/models/nope/infer", b'{"inputs": []}', 404),
        ("/v2/models/iris/infer", b"{", 400),
        ("/v2/models/failing/infer", b'{"inputs": []}', 500),
    ],
)
async def test_errors_echo_the_id_and_x_headers(
    rest: httpx.AsyncClient, path: str, content: bytes, status: int
) -> None:
    answer = await rest.post(path, content=content, headers={"x-request-id": "e", "x-t": "1"})
    assert answer.status_code == status
    assert (answer.headers["x-request-id"], answer.headers["x-t"]) == ("e", "1")
    generated = await rest.post(path, content=content)
    assert generated.headers["x-request-id"]


IRIS_INPUT = iris_request()["inputs"][0]
FLAT = IRIS_ROWS.ravel().tolist()
EARLY_FAILURES = [
    ("/v2/models/nope/infer", iris_request(), 404),
    ("/v2/models/iris/versions/9/infer", iris_request(), 404),
    ("/v2/models/bad/infer", PARAMS_BODY, 503),
    ("/v2/models/iris/infer", {"inputs": [{**IRIS_INPUT, "datatype": "FP64"}]}, 400),
    ("/v2/models/iris/infer", {"inputs": [{**IRIS_INPUT, "shape": [8], "data": FLAT}]}, 400),
]


@pytest.mark.parametrize(("path", "body", "status"), EARLY_FAILURES)
async def test_early_failures_echo_the_body_id(
    rest: httpx.AsyncClient,
    caplog: pytest.LogCaptureFixture,
    path: str,
    body: dict[str, Any],
    status: int,
) -> None:
    caplog.set_level(logging.DEBUG, logger="oipserve.requests")
    answer = await rest.post(path, json={**body, "id": "early"})
    assert answer.status_code == status, answer.text
    assert answer.headers["x-request-id"] == "early"
    (line,) = [r for r in caplog.records if r.name == "oipserve.requests"]
    assert line.request_id == "early"  # type: ignore[attr-defined]  # set by the Monitor
    headed = await rest.post(path, json={**body, "id": "body"}, headers={"x-request-id": "h"})
    assert headed.headers["x-request-id"] == "h"


async def test_timeout_parameter_answers_504(
    rest: httpx.AsyncClient, dataplane: DataPlane, repository: Path
) -> None:
    body = {**PARAMS_BODY, "id": "t", "parameters": {"timeout": 50_000}}
    answer = await rest.post("/v2/models/slow/infer", json=body)
    assert answer.status_code == 504
    message = answer.json()["error"]
    assert re.fullmatch(
        r"model 'slow' did not answer within the request's deadline \(50 ms\)", message
    )
    assert recorded(repository / "slow")[-1] == "cancelled t"
    series = dataplane.monitor.series[("slow", "1", "rest", "deadline_exceeded")]
    assert series.count == 1
    assert not dataplane.monitor.inflight


async def test_a_client_that_leaves_cancels_its_request(server: Server, repository: Path) -> None:
    body = b'{"inputs": [{"name": "a", "shape": [1], "datatype": "INT32", "data": [1]}]}'
    _, writer = await asyncio.open_connection("127.0.0.1", server.http_port)
    writer.write(
        b"POST /v2/models/slow/infer HTTP/1.1\r\nhost: x\r\nx-request-id: bye\r\n"
        b"content-type: application/json\r\ncontent-length: %d\r\n\r\n%s" % (len(body), body)
    )
    await writer.drain()
    await asyncio.sleep(0.3)
    writer.close()
    await writer.wait_closed()
    for _ in range(100):
        if recorded(repository / "slow")[-1:] == ["cancelled bye"]:
            break
        await asyncio.sleep(0.02)
    assert recorded(repository / "slow")[-2:] == ["start bye", "cancelled bye"]
    series = server.dataplane.monitor.series[("slow", "1", "rest", "cancelled")]
    assert series.count == 1
    assert not server.dataplane.monitor.inflight
