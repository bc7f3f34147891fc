"""Deadlines through the DataPlane: the `timeout` parameter, a front's deadline, a caller
that goes away."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from app.context import GRPC, open_context
from app.dataplane import DataPlane
from app.deadlines import tightened, timeout_seconds
from app.protocol.errors import DeadlineExceeded, InvalidInput
from tests.planes import dataplane_over, infer, one_value
from tests.repo import add_model
from tests.toys import recorded


@pytest.fixture
async def plane(tmp_path: Path) -> AsyncIterator[DataPlane]:
    add_model(tmp_path, "slow", "tests.toys:Recorder", parameters={"seconds": 5})
    async with dataplane_over(tmp_path) as dataplane:
        yield dataplane


@pytest.mark.parametrize("value", [0, -5, "100", True, None, math.nan, math.inf])
def test_timeout_must_be_positive_microseconds(value: object) -> None:
    with pytest.raises(InvalidInput, match="'timeout' must be a finite number of microseconds > 0"):
        timeout_seconds({"timeout": value})
    assert timeout_seconds({"timeout": 250_000}) == 0.25
    assert timeout_seconds({"other": 1}) is None


async def test_timeout_parameter_cancels_the_predictor(tmp_path: Path, plane: DataPlane) -> None:
    with pytest.raises(DeadlineExceeded, match="model 'slow' did not answer within the request's"):
        await infer(plane, "slow", one_value(id="late", timeout=100_000))
    assert recorded(tmp_path / "slow") == ["load", "start late", "cancelled late"]
    ((labels, series),) = plane.monitor.series.items()
    assert labels == ("slow", "1", "inprocess", "deadline_exceeded")
    assert series.count == 1
    assert plane.registry.resolve("slow").stats.fail == 1


async def test_a_deadline_of_a_microsecond_is_said_as_0_ms(plane: DataPlane) -> None:
    with pytest.raises(DeadlineExceeded) as late:
        await infer(plane, "slow", one_value(id="at-once", timeout=1))
    assert late.value.message == "model 'slow' did not answer within the request's deadline (0 ms)"


async def test_a_cancelled_caller_cancels_the_predictor(tmp_path: Path, plane: DataPlane) -> None:
    task = asyncio.create_task(infer(plane, "slow", one_value(id="gone")))
    await asyncio.sleep(0.1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert recorded(tmp_path / "slow")[-1] == "cancelled gone"
    assert [key[3] for key in plane.monitor.series] == ["cancelled"]
    assert not plane.monitor.inflight


async def test_the_timeout_parameter_tightens_the_fronts_deadline(
    tmp_path: Path, plane: DataPlane
) -> None:
    """The front's deadline is its own to keep (gRPC cancels the call); the `timeout`
    parameter is kept here, and what is left of either goes on to in-process calls."""
    far = time.monotonic() + 60
    context = open_context(GRPC, deadline=far)
    with pytest.raises(DeadlineExceeded):
        await infer(plane, "slow", one_value(id="due", timeout=100_000), None, context)
    assert context.deadline is not None
    assert context.deadline < far
    assert recorded(tmp_path / "slow")[-1] == "cancelled due"
    assert plane.monitor.series[("slow", "1", "grpc", "deadline_exceeded")].count == 1


def test_the_earlier_deadline_wins() -> None:
    now = time.monotonic()
    assert tightened(None, None) is None
    assert tightened(now + 5, None) == now + 5
    assert now + 1 <= tightened(None, 1) <= time.monotonic() + 1  # type: ignore[operator]  # a float here
    assert tightened(now + 0.5, 60) == now + 0.5
    assert math.isclose(tightened(now + 60, 0.5) or 0, now + 0.5, abs_tol=0.1)
