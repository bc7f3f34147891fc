"""The batching bench serves the serial model with and without adaptive batching under the
same load, and batching answers more (a short run: the figures come from `python -m
bench.batching`)."""

from __future__ import annotations

import pytest

from bench import batching

pytestmark = pytest.mark.slow


def test_batching_answers_more_than_one_call_at_a_time() -> None:
    found = batching.measure(1.0, 16, 0, 1)
    plain, batched = found[batching.PLAIN], found[batching.BATCHED]
    assert plain.errors == batched.errors == 0
    assert batched.rps > 2 * plain.rps
    report = batching.report(found)
    assert report.splitlines()[-1].startswith("batching: ")
