"""Calls through the DataPlane: request ids, X- headers, the timeout parameter."""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest

from app.calls import (
    REST,
    SUCCESS,
    current_call,
    new_request_id,
    reply_headers,
    timeout_seconds,
)
from app.dataplane import DataPlane
from app.protocol.errors import DeadlineExceeded, InvalidInput
from app.protocol.types import InferenceRequest, InferenceResponse, RequestInput
from tests.planes import dataplane_over
from tests.repo import add_model
from tests.toys import recorded


def _request(id: str | None = None, **parameters: object) -> InferenceRequest:
    data = np.array([1.0], dtype=np.float32)
    return InferenceRequest(
        id=id,
        parameters=parameters or None,
        inputs=[RequestInput(name="input-0", shape=[1], datatype="FP32", data=data)],
    )


@pytest.fixture
async def plane(tmp_path: Path) -> AsyncIterator[DataPlane]:
    add_model(tmp_path, "params", "tests.toys:ParameterEcho")
    add_model(tmp_path, "slow", "tests.toys:Recorder", parameters={"seconds": 5})
    async with dataplane_over(tmp_path) as dataplane:
        yield dataplane


async def _as_transport(
    plane: DataPlane, request: InferenceRequest, **headers: str
) -> tuple[InferenceResponse, list[tuple[str, str]]]:
    """Infer as a transport does: a REST call with these headers; the answer's headers."""
    call = plane.monitor.begin(REST, "params")
    for name, value in headers.items():
        call.take_header(name.replace("_", "-"), value)
    token = current_call.set(call)
    try:
        response = await plane.infer("params", request)
    finally:
        current_call.reset(token)
    plane.monitor.finish(call, SUCCESS)
    return response, call.echo()


async def test_header_id_wins_over_body_id(plane: DataPlane) -> None:
    response, echoed = await _as_transport(plane, _request(id="body"), x_request_id="head")
    assert response.id == "head"
    assert echoed == [("x-request-id", "head")]


async def test_body_id_is_used_without_header(plane: DataPlane) -> None:
    response, echoed = await _as_transport(plane, _request(id="body"))
    assert response.id == "body"
    assert echoed == [("x-request-id", "body")]


async def test_a_request_without_id_gets_a_new_unique_one(plane: DataPlane) -> None:
    ids = {(await plane.infer("params", _request())).id for _ in range(50)}
    assert len(ids) == 50
    assert all(isinstance(id_, str) and len(id_) > 9 for id_ in ids)
    assert new_request_id() != new_request_id()


async def test_x_headers_reach_the_predictor_and_come_back(plane: DataPlane) -> None:
    response, echoed = await _as_transport(plane, _request(mine=1), x_tenant="acme", x_trace="t-9")
    assert response.parameters == {"mine": 1, "x-tenant": "acme", "x-trace": "t-9"}
    assert dict(echoed) == {"x-request-id": response.id, "x-tenant": "acme", "x-trace": "t-9"}


def test_reply_headers_add_the_responses_x_parameters() -> None:
    assert reply_headers({"x-a": "1"}, {"x-b": "2", "x-n": 3, "plain": "p"}) == {
        "x-a": "1",
        "x-b": "2",
    }
    assert reply_headers(None, {"x-b": "2"}) == {"x-b": "2"}
    assert reply_headers(None, None) is None


@pytest.mark.parametrize("value", [0, -5, "100", True, None, math.nan, math.inf])
def test_timeout_must_be_positive_microseconds(value: object) -> None:
    with pytest.raises(InvalidInput, match="'timeout' must be a finite number of microseconds > 0"):
        timeout_seconds({"timeout": value})
    assert timeout_seconds({"timeout": 250_000}) == 0.25
    assert timeout_seconds({"other": 1}) is None


async def test_timeout_parameter_cancels_the_predictor(tmp_path: Path, plane: DataPlane) -> None:
    with pytest.raises(DeadlineExceeded, match="within the request's timeout of 100 ms"):
        await plane.infer("slow", _request(id="late", timeout=100_000))
    assert recorded(tmp_path / "slow") == ["load", "start late", "cancelled late"]
    ((labels, series),) = plane.monitor.series.items()
    assert labels == ("slow", "1", "inprocess", "deadline_exceeded")
    assert series.count == 1
    assert plane.registry.resolve("slow").stats.fail == 1


async def test_a_cancelled_caller_cancels_the_predictor(tmp_path: Path, plane: DataPlane) -> None:
    task = asyncio.create_task(plane.infer("slow", _request(id="gone")))
    await asyncio.sleep(0.1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert recorded(tmp_path / "slow")[-1] == "cancelled gone"
    assert [key[3] for key in plane.monitor.series] == ["cancelled"]
    assert not plane.monitor.inflight
