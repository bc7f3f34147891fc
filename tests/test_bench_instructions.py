"""The instruction count runs each server under callgrind for real and counts only the
measured requests: the floor, which answers a fixed message, counts fewest."""

from __future__ import annotations

import pytest

from bench import instructions


@pytest.mark.slow
@pytest.mark.timeout(600)
async def test_the_floor_counts_fewer_instructions_than_the_servers_that_predict() -> None:
    counts = await instructions.measure(["floor", "handler"], requests=200, warmup=100)
    assert set(counts) == {"oipserve", "floor", "handler"}  # the floor needs oipserve's answer
    for count in counts.values():
        assert 100_000 < count < 5_000_000  # a request's worth, not start-up's
    assert counts["floor"] < counts["handler"]
    assert counts["floor"] < counts["oipserve"]
    table = instructions.report(counts)
    floor, handler = counts["floor"], counts["handler"]
    assert f"| floor | {floor / 1000:,.1f}k | 1.00 |" in table
    assert f"| handler | {handler / 1000:,.1f}k | {floor / handler:.2f} |" in table


@pytest.mark.slow
@pytest.mark.timeout(600)
async def test_rest_small_is_counted_against_the_uvicorn_floor() -> None:
    counts = await instructions.measure(["floor"], requests=200, warmup=100, name="rest-small")
    assert set(counts) == {"oipserve", "floor"}
    for count in counts.values():
        assert 50_000 < count < 5_000_000
    assert counts["floor"] < counts["oipserve"]


async def test_the_handler_answers_grpc_only() -> None:
    with pytest.raises(ValueError, match="gRPC only"):
        await instructions.measure(["handler"], requests=1, warmup=1, name="rest-small")
