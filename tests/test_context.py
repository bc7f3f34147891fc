"""The RequestContext: request ids, X- headers and the reply headers, through the DataPlane."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from app.context import (
    GRPC,
    INPROCESS,
    REST,
    enter_context,
    inner_context,
    leave_context,
    new_request_id,
    open_context,
)
from app.dataplane import DataPlane
from app.protocol.types import InferenceRequest, InferenceResponse
from tests.planes import dataplane_over, infer, one_value
from tests.repo import add_model


@pytest.fixture
async def plane(tmp_path: Path) -> AsyncIterator[DataPlane]:
    add_model(tmp_path, "params", "tests.toys:ParameterEcho")
    async with dataplane_over(tmp_path) as dataplane:
        yield dataplane


async def _as_transport(
    plane: DataPlane, request: InferenceRequest, **headers: str
) -> tuple[InferenceResponse, list[tuple[str, str]]]:
    """Infer as a front does: a REST request with these headers; the answer's headers."""
    pairs = [(name.replace("_", "-"), value) for name, value in headers.items()]
    context = open_context(REST, pairs)
    response = await infer(plane, "params", request, None, context)
    return response, context.echo()


async def test_header_id_wins_over_body_id(plane: DataPlane) -> None:
    response, echoed = await _as_transport(plane, one_value(id="body"), x_request_id="head")
    assert response.id == "head"
    assert echoed == [("x-request-id", "head")]


async def test_body_id_is_used_without_header(plane: DataPlane) -> None:
    response, echoed = await _as_transport(plane, one_value(id="body"))
    assert response.id == "body"
    assert echoed == [("x-request-id", "body")]


async def test_a_request_without_id_gets_a_new_unique_one(plane: DataPlane) -> None:
    ids = {(await infer(plane, "params", one_value())).id for _ in range(50)}
    assert len(ids) == 50
    assert all(isinstance(id_, str) and len(id_) > 9 for id_ in ids)
    assert new_request_id() != new_request_id()


async def test_x_headers_reach_the_predictor_and_come_back(plane: DataPlane) -> None:
    response, echoed = await _as_transport(plane, one_value(mine=1), x_tenant="acme", x_trace="t-9")
    assert response.parameters == {"mine": 1, "x-tenant": "acme", "x-trace": "t-9"}
    assert dict(echoed) == {"x-request-id": response.id, "x-tenant": "acme", "x-trace": "t-9"}


async def test_the_responses_x_parameters_come_back_too(plane: DataPlane) -> None:
    request = one_value()
    request.parameters = {"x-b": "2", "x-n": 3, "plain": "p"}
    _, echoed = await _as_transport(plane, request, x_a="1")
    assert echoed[1:] == [("x-a", "1"), ("x-b", "2")]  # text values only


def test_a_context_keeps_the_text_x_headers_and_the_seldon_model_header() -> None:
    context = open_context(
        GRPC,
        [
            ("x-request-id", "r"),
            ("x-a", "1"),
            ("x-b-bin", b"\x00"),
            ("seldon-model", "m"),
            ("y", ""),
        ],
    )
    assert (context.front, context.id, context.headers) == (GRPC, "r", {"x-a": "1"})
    assert context.seldon_model == "m"
    assert open_context(REST, [("x-request-id", "")]).id is None  # empty: one is made later


async def test_an_inner_context_carries_the_current_requests_on(plane: DataPlane) -> None:
    assert inner_context([("x-a", "1")]).headers == {"x-a": "1"}  # outside any request
    outer = open_context(REST, [("x-request-id", "r-1"), ("x-tenant", "t")], deadline=123.0)
    token = enter_context(outer)
    try:
        inner = inner_context([("x-extra", "e")])
    finally:
        leave_context(token)
    assert (inner.front, inner.id, inner.deadline) == (INPROCESS, "r-1", 123.0)
    assert inner.headers == {"x-tenant": "t", "x-extra": "e"}
