"""A model whose code calls sys.exit() or raises KeyboardInterrupt (importing, loading,
predicting with or without batching, unloading) fails that call alone: the server, on a
real port, stays up and answers everything else."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.repo import add_model

_ONE = {"inputs": [{"name": "x", "shape": [1], "datatype": "FP32", "data": [1.0]}]}


@pytest.fixture(autouse=True)
def _exiting_models(repository: Path) -> None:
    folder = add_model(repository, "exit-import", "exits:Anything")
    (folder / "exits.py").write_text("import sys\n\nsys.exit(3)\n")
    add_model(repository, "exit-load", "tests.toys:Exiting", parameters={"when": "load"})
    interrupt = {"when": "load", "interrupt": True}
    add_model(repository, "interrupt-load", "tests.toys:Exiting", parameters=interrupt)
    add_model(repository, "exit-predict", "tests.toys:Exiting", parameters={"when": "predict"})
    add_model(
        repository,
        "exit-batched",
        "tests.toys:Exiting",
        parameters={"when": "predict"},
        max_batch_size=4,
        max_batch_time=0.01,
    )
    add_model(repository, "exit-unload", "tests.toys:Exiting", parameters={"when": "unload"})


async def test_a_model_that_exits_fails_alone(served: httpx.AsyncClient) -> None:
    index = (await served.post("/v2/repository/index")).json()
    reasons = {model["name"]: model.get("reason", "") for model in index}
    assert (
        reasons["exit-import"]
        == "ImplementationError: cannot import 'exits:Anything': SystemExit: 3"
    )
    assert reasons["exit-load"] == "SystemExit: 3"
    assert reasons["interrupt-load"] == "KeyboardInterrupt: "
    for model in ("exit-predict", "exit-batched"):
        answer = await served.post(f"/v2/models/{model}/infer", json=_ONE)
        assert (answer.status_code, answer.json()) == (
            500,
            {"error": f"model {model!r} failed: SystemExit: 3"},
        )
    assert (await served.post("/v2/repository/models/exit-unload/unload")).status_code == 200
    assert (await served.get("/v2/health/live")).status_code == 200
    answer = await served.post("/v2/models/iris/infer", json={"inputs": [_IRIS]})
    assert answer.status_code == 200


_IRIS = {"name": "input-0", "shape": [1, 4], "datatype": "FP32", "data": [5.1, 3.5, 1.4, 0.2]}
