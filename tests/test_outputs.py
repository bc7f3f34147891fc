"""A model's answer is checked against its declared outputs: an undeclared output, another
datatype or another shape is a 500 naming the model, the output and what was declared,
logged with the request id; a declared output may be missing; a model that declares no
outputs is not checked."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.logs import ContextFilter
from tests.repo import add_model, tensor

BODY = {"inputs": [{"name": "x", "shape": [1], "datatype": "FP32", "data": [1.0]}]}
DECLARED = [tensor("y", "FP32", [-1, 2]), tensor("w", "INT64", [-1])]


@pytest.fixture
def repository(tmp_path: Path) -> Path:
    repo = tmp_path / "models"
    wrongs: list[tuple[str, dict[str, Any]]] = [
        ("right", {}),
        ("ints", {"dtype": "int64"}),
        ("extra", {"output": "z"}),
        ("flat", {"shape": [3]}),
    ]
    for name, parameters in wrongs:
        add_model(repo, name, "tests.toys:Shaped", outputs=DECLARED, parameters=parameters)
    add_model(repo, "free", "tests.toys:Shaped", parameters={"dtype": "int8", "output": "q"})
    return repo


@pytest.mark.parametrize("model", ["right", "free"])
async def test_declared_or_undeclared_answers_pass(served: httpx.AsyncClient, model: str) -> None:
    """`right` answers `y` as declared and leaves `w` out; `free` declares nothing."""
    answer = await served.post(f"/v2/models/{model}/infer", json=BODY)
    assert answer.status_code == 200, answer.text


@pytest.mark.parametrize(
    ("model", "message"),
    [
        ("ints", "model 'ints' answered output 'y' as INT64, declared FP32"),
        (
            "extra",
            "model 'extra' answered output 'z', which it does not declare; outputs: 'y', 'w'",
        ),
        ("flat", "model 'flat' answered output 'y' of shape [3], declared [-1, 2]"),
    ],
)
async def test_a_wrong_answer_is_a_500_naming_it(
    served: httpx.AsyncClient, caplog: pytest.LogCaptureFixture, model: str, message: str
) -> None:
    caplog.handler.addFilter(ContextFilter())
    headers = {"x-request-id": f"out-{model}"}
    answer = await served.post(f"/v2/models/{model}/infer", json=BODY, headers=headers)
    assert (answer.status_code, answer.json()) == (500, {"error": message})
    logged = [r for r in caplog.records if r.levelno == logging.ERROR and r.getMessage() == message]
    assert [getattr(record, "request_id", None) for record in logged] == [f"out-{model}"]
