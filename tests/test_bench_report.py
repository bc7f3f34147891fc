"""The bench table: ratios to the floor, and a floor the load generator held back flagged."""

from __future__ import annotations

import argparse

import pytest

from bench.measure import Result
from bench.report import MINIMAL, ONE_STEP, TARGETS, Row, busy, table

OPTIONS = argparse.Namespace(duration=10, warmup=2, rounds=3, server_core=0, client_core=1)


def _result(requests: int, cpu_us: float) -> Result:
    return Result(requests, 10.0, 0, 1.0, 2.0, cpu_us, 90.0)


def _oipserve_row(floor: Result) -> list[str]:
    rows = [
        Row("grpc-small", "grpc.aio floor", True, floor),
        Row("grpc-small", "oipserve", False, _result(15_000, 600)),
    ]
    line = table(rows, OPTIONS).splitlines()[3]
    return [cell.strip() for cell in line.strip("|").split("|")]


def test_busy_is_the_share_of_one_core() -> None:
    assert busy(_result(20_000, 450)) == pytest.approx(0.9)


def test_a_saturated_floor_gives_plain_ratios() -> None:
    cells = _oipserve_row(_result(20_000, 480))  # 2,000 req/s at 480 us: 96 % busy
    assert cells[9:12] == ["90%", "0.75", "0.80"]


def test_a_floor_with_cpu_to_spare_is_flagged_load_bound() -> None:
    cells = _oipserve_row(_result(20_000, 300))  # 2,000 req/s at 300 us: 60 % busy
    assert cells[9] == "90%"
    assert cells[10] == "0.75 (floor load-bound)"
    assert cells[11] == "0.50"


def test_the_table_says_how_it_was_made_even_without_the_load_tools(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PATH", "")
    made = table([Row("grpc-small", "grpc.aio floor", True, _result(1, 1))], OPTIONS)
    assert made.endswith("wrk not found, h2load not found")


def test_the_predict_only_handler_gets_a_ratio_but_no_target_and_is_explained() -> None:
    rows = [
        Row("grpc-small", "grpc.aio floor", True, _result(20_000, 480)),
        Row("grpc-small", MINIMAL, False, _result(18_000, 530)),
        Row("grpc-small", "oipserve", False, _result(15_000, 600)),
    ]
    made = table(rows, OPTIONS)
    minimal, ours = (
        [c.strip() for c in line.strip("|").split("|")] for line in made.splitlines()[3:5]
    )
    assert minimal[10:13] == ["0.90", "0.91", ""]
    assert ours[10:13] == ["0.75", "0.80", ">= 0.80"]
    assert f"{MINIMAL}: a bare grpc.aio handler" in made
    assert MINIMAL not in table(rows[::2], OPTIONS)


def test_a_pipeline_step_is_priced_against_one_steps_request() -> None:
    lone = Result(1_000, 10.0, 0, 0.2, 0.4, 150, 90.0)
    lone_pipeline = Result(1_000, 10.0, 0, 0.35, 0.6, 300, 90.0)
    rows = [
        Row("rest-pipeline-3", "uvicorn floor", True, _result(400_000, 24)),
        Row("rest-pipeline-3", ONE_STEP, False, _result(100_000, 90), lone),
        Row("rest-pipeline-3", "oipserve", False, _result(40_000, 240), lone_pipeline),
    ]
    made = table(rows, OPTIONS)
    assert (
        "rest-pipeline-3: a step costs 50 us of CPU beyond one model's request; one request "
        "at a time, p50 0.35 ms against 0.20 ms, 1.75x (step <= 50 us CPU, p50 <= 1.5x one "
        "step)." in made
    )
    ours = [c.strip() for c in made.splitlines()[4].strip("|").split("|")]
    assert (ours[1], ours[10], ours[12]) == ("oipserve", "0.10", TARGETS["rest-pipeline-3"])
