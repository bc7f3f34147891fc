"""The in-process bench runs the real servicer and REST app on the bench models and checks
their answers before it times them."""

from __future__ import annotations

import pytest

from bench import inprocess


@pytest.mark.parametrize("scenario", sorted(inprocess.SCENARIOS))
async def test_each_scenario_is_answered_right_and_timed(scenario: str) -> None:
    seconds = await inprocess.seconds_per_request(scenario, 20)
    assert 0 < seconds < 1
