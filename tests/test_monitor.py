"""The Monitor: per-version statistics, request series by label, calls in flight."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest

from app.context import CANCELLED, GRPC, REST, RequestContext, open_context
from app.dataplane import DataPlane
from app.monitor import BUCKETS, SUCCESS, Series, outcome_of
from app.protocol.errors import InvalidInput, ModelNotFound
from app.protocol.types import InferenceRequest, RequestInput
from tests.planes import dataplane_over, infer
from tests.repo import add_model, tensor


def _request(shape: list[int] | None = None) -> InferenceRequest:
    shape = shape or [1]
    data = np.ones(shape, dtype=np.float32)
    return InferenceRequest(
        inputs=[RequestInput(name="input-0", shape=shape, datatype="FP32", data=data)]
    )


@pytest.fixture
async def plane(tmp_path: Path) -> AsyncIterator[DataPlane]:
    add_model(tmp_path, "echo", "tests.toys:Echo", versions=["1", "2"], max_batch_size=8)
    add_model(tmp_path, "picky", "tests.toys:Picky", inputs=[tensor("input-0", "FP32", [-1])])
    async with dataplane_over(tmp_path) as dataplane:
        yield dataplane


async def test_successes_count_per_version_with_batch_size(plane: DataPlane) -> None:
    v1, v2 = plane.registry.versions("echo")
    assert v2.stats.last_inference == 0  # no success yet
    before = time.time_ns() // 1_000_000
    for _ in range(3):
        await infer(plane, "echo", _request([4, 2]))
    after = time.time_ns() // 1_000_000
    await asyncio.sleep(0.05)  # read later: still the time the last success ended
    assert before <= v2.stats.last_inference <= after + 1
    await infer(plane, "echo", _request([1, 2]), "1")
    assert (v1.stats.success, v1.stats.inference_count) == (1, 1)
    assert (v2.stats.success, v2.stats.inference_count, v2.stats.fail) == (3, 12, 0)
    assert v2.stats.success_ns >= v2.stats.infer_ns > 0
    assert plane.monitor.series[("echo", "2", "inprocess", "success")].count == 3


async def test_failures_count_with_their_status(plane: DataPlane) -> None:
    with pytest.raises(InvalidInput):
        await infer(plane, "picky", _request())
    with pytest.raises(InvalidInput):  # rejected by the checks, before the predictor
        await infer(plane, "picky", InferenceRequest(inputs=[]))
    with pytest.raises(ModelNotFound):
        await infer(plane, "nope", _request())
    picky = plane.registry.resolve("picky")
    assert (picky.stats.success, picky.stats.fail) == (0, 2)
    counts = {key: series.count for key, series in plane.monitor.series.items()}
    assert counts == {
        ("picky", "1", "inprocess", "invalid_argument"): 2,
        ("", "", "inprocess", "not_found"): 1,  # unknown names never become labels
    }


def _in_flight(plane: DataPlane, front: str, model: str) -> RequestContext:
    context = open_context(front)
    context.model = model
    plane.monitor.begin(context)
    return context


async def test_requests_in_flight_are_described(plane: DataPlane) -> None:
    contexts = [_in_flight(plane, REST, "echo"), _in_flight(plane, REST, "x")]
    contexts.append(_in_flight(plane, GRPC, "echo"))
    assert plane.monitor.describe_inflight() == "3 (grpc 1, rest 2)"
    for context in contexts[:2]:
        plane.monitor.finish(context, None, SUCCESS)
    plane.monitor.finish(contexts[2], None, CANCELLED)
    assert plane.monitor.describe_inflight() == "0"
    assert plane.monitor.series[("echo", "", "grpc", "cancelled")].count == 1
    assert plane.monitor.series[("", "", "rest", "success")].count == 1


def test_outcomes_and_buckets() -> None:
    context = open_context(GRPC)
    assert outcome_of(None, context) == "success"
    assert outcome_of(ModelNotFound("x"), context) == "not_found"
    assert outcome_of(RuntimeError(), context) == "internal"
    assert outcome_of(asyncio.CancelledError(), context) == "cancelled"
    context.deadline = time.monotonic()
    assert outcome_of(asyncio.CancelledError(), context) == "deadline_exceeded"
    context.cancelled = "cancelled"  # the front cancelled it: the client went away
    assert outcome_of(asyncio.CancelledError(), context) == "cancelled"
    series = Series()
    for seconds in (0.0005, 0.0006, 100.0):
        series.observe(seconds)
    assert series.buckets[0] == 1  # le=0.0005 includes its bound
    assert series.buckets[1] == 1
    assert series.buckets[len(BUCKETS)] == 1  # +Inf
    assert series.count == 3
    assert series.total == pytest.approx(100.0011)
