"""docs/models.md and docs/settings.md tell the truth: the model examples serve, and the
tables list exactly the model settings fields and the server settings (flags, variables,
defaults) that exist."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from app.cli import main
from app.kafka.settings import KafkaSettings
from app.model_settings import ModelSettings
from app.settings import ServerSettings
from tests.readme import blocks, document
from tests.repo import IRIS, add_model

SET_BY_THE_LOADER = {"model_folder", "path"}


@pytest.fixture
def repository(tmp_path: Path) -> Path:
    """One model per Python model example of docs/models.md, as its model.py."""
    repo = tmp_path / "models"
    for example in blocks(document("models.md"), "python"):
        if "(Predictor)" not in example:
            continue  # a line to put in a predictor, not a model
        (name,) = re.findall(r"^class (\w+)\(Predictor\)", example, re.MULTILINE)
        folder = add_model(repo, name.lower(), f"model:{name}", parameters={"factor": 3})
        (folder / "model.py").write_text(example)
    return repo


async def test_predict_example_serves(rest: httpx.AsyncClient) -> None:
    tensor = {"name": "input-0", "shape": [2], "datatype": "FP32", "data": [1, 2]}
    answer = await rest.post("/v2/models/doubler/infer", json={"inputs": [tensor]})
    assert answer.status_code == 200, answer.text
    (output,) = answer.json()["outputs"]
    assert (output["name"], output["datatype"], output["data"]) == ("output-0", "FP32", [3, 6])


async def test_infer_example_serves(rest: httpx.AsyncClient) -> None:
    tensor = {"name": "scores", "shape": [3], "datatype": "FP32", "data": [0.2, 0.6, 0.9]}
    request = {"inputs": [tensor], "parameters": {"threshold": 0.5}}
    answer = await rest.post("/v2/models/threshold/infer", json=request)
    assert answer.status_code == 200, answer.text
    (output,) = answer.json()["outputs"]
    assert (output["name"], output["datatype"]) == ("over", "BOOL")
    assert output["data"] == [False, True, True]


def test_the_calling_example_is_the_bundled_model() -> None:
    bundled = (IRIS.parent / "iris-labels" / "labels.py").read_text()
    (example,) = [code for code in blocks(document("models.md"), "python") if "client" in code]
    assert example in bundled


def table_rows(text: str) -> list[list[str]]:
    """The cells of every Markdown table row in `text` (header and rule rows left out)."""
    rows = []
    for line in text.splitlines():
        if line.strip().startswith("|"):
            rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
    headers = {index - 1 for index, row in enumerate(rows) if set("".join(row)) == {"-"}}
    return [
        row for index, row in enumerate(rows) if index not in headers | {i + 1 for i in headers}
    ]


def test_model_settings_table_lists_every_field() -> None:
    fields = {
        name for row in table_rows(document("models.md")) for name in re.findall(r"`(\w+)`", row[0])
    }
    assert fields == set(ModelSettings.model_fields) - SET_BY_THE_LOADER


def test_settings_table_lists_every_setting_with_its_default(
    capsys: pytest.CaptureFixture[str],
) -> None:
    rows = table_rows(document("settings.md"))
    documented = {}
    for flag, variable, default in rows:
        (name,) = re.findall(r"`OIPSERVE_(\w+)`", variable)
        documented[name.lower()] = (flag, default.strip("`"))
    fields = dict(ServerSettings.model_fields)
    fields |= {f"kafka_{name}": field for name, field in KafkaSettings.model_fields.items()}
    assert set(documented) == set(fields)
    for name, (_, default) in documented.items():
        assert default == str(fields[name].default), name
    with pytest.raises(SystemExit):
        main(["serve", "--help"])
    usage = capsys.readouterr().out
    for flag, _ in documented.values():
        for option in re.findall(r"`(--[\w-]+)`", flag):
            assert option in usage
