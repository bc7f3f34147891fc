"""The Kafka bench sends requests to `small` through oipserve's Kafka front and through the
bare aiokafka loop on one broker, and reports both (a short run: the figures come from
`python -m bench.kafka`)."""

from __future__ import annotations

import pytest

from bench import kafka

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("encoding", ["json", "proto"])
def test_the_bench_answers_every_request_both_ways(encoding: str) -> None:
    floor, served = kafka.measure(300, 2, 0, 1, encoding)
    assert (floor.name, served.name) == ("bare aiokafka loop", "oipserve")
    for figures in (floor, served):
        assert figures.rate > 0
        assert 0 < figures.p50_ms <= figures.p99_ms
    assert kafka.report([floor, served]).splitlines()[-1].startswith("kafka: oipserve ")
