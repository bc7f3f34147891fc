"""Adaptive batching: requests of one shape join along dimension 0 and run as one call, each
caller getting exactly its rows, its own id and its requested outputs; a request of another
shape, or with parameters, runs on its own; a bad request fails alone; a lone request waits at
most max_batch_time; the statistics count executions, batch sizes and queue time."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
import pytest

from tests.repo import add_model, add_pipeline, tensor

WAIT = 0.2
"""max_batch_time of the batching model, in seconds."""


@pytest.fixture
def repository(tmp_path: Path) -> Path:
    repo = tmp_path / "models"
    add_model(
        repo,
        "rows",
        "tests.toys:RowSums",
        inputs=[tensor("x", "FP32", [-1, -1])],
        outputs=[tensor("sum", "FP32", [-1]), tensor("calls", "INT64", [-1])],
        max_batch_size=8,
        max_batch_time=WAIT,
    )
    add_pipeline(repo, "rows-twice", {"steps": [{"name": "rows"}], "output": {"steps": ["rows"]}})
    return repo


def _body(rows: list[list[float]], **extra: object) -> dict[str, object]:
    shape = [len(rows), len(rows[0])]
    return {"inputs": [{"name": "x", "shape": shape, "datatype": "FP32", "data": rows}], **extra}


async def test_requests_join_and_each_gets_its_rows(served: httpx.AsyncClient) -> None:
    bodies = [_body([[float(i), 1.0]] * (i % 3 + 1), id=f"r{i}") for i in range(4)]
    answers = await asyncio.gather(
        *(served.post("/v2/models/rows/infer", json=body) for body in bodies)
    )
    calls = set()
    for i, answer in enumerate(answers):
        assert answer.status_code == 200, answer.text
        found = answer.json()
        assert found["id"] == f"r{i}"
        outputs = {output["name"]: output["data"] for output in found["outputs"]}
        assert outputs["sum"] == [i + 1.0] * (i % 3 + 1)
        calls.update(outputs["calls"])
    assert len(calls) == 1  # one call answered all four (1 + 2 + 3 + 1 = 7 rows <= 8)
    stats = (await served.get("/v2/models/rows/stats")).json()["model_stats"][0]
    assert (stats["inference_count"], stats["execution_count"]) == (7, 1)
    assert [b["batch_size"] for b in stats["batch_stats"]] == [7]
    assert stats["inference_stats"]["queue"]["count"] == 4
    assert stats["inference_stats"]["queue"]["ns"] > 0
    metrics = (await served.get("/metrics")).text
    assert 'oipserve_batches_total{model="rows",size="7",version="1"} 1.0' in metrics
    assert 'oipserve_batch_queue_seconds_total{model="rows",version="1"}' in metrics


async def test_requested_outputs_are_each_callers(served: httpx.AsyncClient) -> None:
    plain = served.post("/v2/models/rows/infer", json=_body([[1.0, 2.0]]))
    picky = served.post(
        "/v2/models/rows/infer", json=_body([[3.0, 4.0]], outputs=[{"name": "calls"}])
    )
    first, second = await asyncio.gather(plain, picky)
    assert [o["name"] for o in first.json()["outputs"]] == ["sum", "calls"]
    assert [o["name"] for o in second.json()["outputs"]] == ["calls"]
    assert first.json()["outputs"][1]["data"] == second.json()["outputs"][0]["data"]


async def test_a_batch_is_full_at_max_batch_size(served: httpx.AsyncClient) -> None:
    started = time.monotonic()
    answers = await asyncio.gather(
        *(served.post("/v2/models/rows/infer", json=_body([[1.0, 1.0]] * 4)) for _ in range(2))
    )
    assert time.monotonic() - started < WAIT  # 8 rows: it ran without waiting
    calls = {answer.json()["outputs"][1]["data"][0] for answer in answers}
    assert len(calls) == 1


async def test_a_lone_request_waits_at_most_max_batch_time(served: httpx.AsyncClient) -> None:
    started = time.monotonic()
    answer = await served.post("/v2/models/rows/infer", json=_body([[1.0, 1.0]]))
    waited = time.monotonic() - started
    assert answer.status_code == 200
    assert WAIT * 0.9 <= waited < WAIT + 1.0


async def test_other_shapes_and_parameters_do_not_join(served: httpx.AsyncClient) -> None:
    two = served.post("/v2/models/rows/infer", json=_body([[1.0, 1.0]]))
    three = served.post("/v2/models/rows/infer", json=_body([[1.0, 1.0, 1.0]]))
    own = served.post("/v2/models/rows/infer", json=_body([[1.0, 1.0]], parameters={"tenant": "x"}))
    answers = await asyncio.gather(two, three, own)
    calls = [answer.json()["outputs"][1]["data"][0] for answer in answers]
    assert len(set(calls)) == 3


async def test_a_bad_request_fails_alone(served: httpx.AsyncClient) -> None:
    good = served.post("/v2/models/rows/infer", json=_body([[1.0, 1.0]]))
    bad = served.post(
        "/v2/models/rows/infer",
        json={"inputs": [{"name": "x", "shape": [1, 2], "datatype": "INT32", "data": [1, 1]}]},
    )
    first, second = await asyncio.gather(good, bad)
    assert first.status_code == 200
    assert second.status_code == 400


async def test_a_pipeline_step_batches_with_direct_requests(served: httpx.AsyncClient) -> None:
    direct = served.post("/v2/models/rows/infer", json=_body([[1.0, 2.0]]))
    stepped = served.post("/v2/pipelines/rows-twice/infer", json=_body([[3.0, 4.0]]))
    first, second = await asyncio.gather(direct, stepped)
    assert second.status_code == 200, second.text
    calls = [{o["name"]: o["data"] for o in a.json()["outputs"]}["calls"] for a in (first, second)]
    assert calls[0] == calls[1]
