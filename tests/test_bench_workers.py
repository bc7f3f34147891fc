"""The workers bench measures rest-small and grpc-small against a server of N workers and
reports each against N times one worker (a short run of N = 1 and 2)."""

from __future__ import annotations

import pytest

from bench import workers

pytestmark = pytest.mark.slow


def test_one_and_two_workers_are_measured() -> None:
    found = workers.measure([1, 2], 1.0, "0", "1", 1)
    for count in (1, 2):
        assert found[count]["rest-small"] > 0
        assert found[count]["grpc-small"] > 0
    assert found[2]["rss_mb"] > found[1]["rss_mb"]  # two processes' memory
    lines = workers.report(found).splitlines()
    assert lines[1].startswith("2 workers: rest-small ")
