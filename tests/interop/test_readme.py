"""The README's first screen, run as written: its curl and grpcurl examples answer iris, and
its serve command, on a fresh copy of the source tree, gives a serving iris; the quick starts
of docs/pipelines.md and docs/explainers.md answer the bundled pipeline and explainer."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.process import LOCAL_PORTS, ROOT, ServerProcess, running, serve
from tests.readme import blocks, document, python_example, section, shell_commands

pytestmark = pytest.mark.slow

SETOSA = 0
"""The class of the README's example flower (5.1, 3.5, 1.4, 0.2)."""


def first_screen_blocks() -> list[list[str]]:
    found = [shell_commands(block) for block in blocks(section(), "bash")]
    assert len(found) == 3, "expected: serve command, test command, examples"
    return found


def example_answers(server: ServerProcess, commands: list[str] | None = None) -> dict[str, Any]:
    """Run each README example (the first screen's, unless given) against `server` (its ports
    in place of 8080 / 8081), with the dev extra's tools on PATH; the answers by tool."""
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    answers = {}
    for command in first_screen_blocks()[2] if commands is None else commands:
        assert "localhost:8080" in command or "localhost:8081" in command, command
        local = command.replace("localhost:8080", f"127.0.0.1:{server.http_port}")
        local = local.replace("localhost:8081", f"127.0.0.1:{server.grpc_port}")
        result = subprocess.run(
            ["bash", "-c", local], env=env, capture_output=True, text=True, timeout=30, check=False
        )
        assert result.returncode == 0, f"{command}\n{result.stderr}"
        answers[command.split()[0]] = json.loads(result.stdout)
    return answers


def assert_setosa(answers: dict[str, Any]) -> None:
    assert set(answers) == {"curl", "grpcurl"}
    rest = answers["curl"]["outputs"][0]
    grpc = answers["grpcurl"]["outputs"][0]
    for output, values in [(rest, rest["data"]), (grpc, grpc["contents"]["fp32_contents"])]:
        assert (output["name"], output["datatype"]) == ("output-0", "FP32")
        assert [int(size) for size in output["shape"]] == [1, 3]
        assert values.index(max(values)) == SETOSA


def test_curl_and_grpcurl_examples_answer_iris(bundled: ServerProcess) -> None:
    assert_setosa(example_answers(bundled))


@pytest.mark.parametrize(
    ("title", "document"), [("Pipelines", "README.md"), ("Quick start", "pipelines.md")]
)
def test_pipeline_examples_answer_the_bundled_pipeline(
    bundled: ServerProcess, title: str, document: str
) -> None:
    (block,) = blocks(section(title, document), "bash")
    answers = example_answers(bundled, shell_commands(block))
    assert set(answers) == {"curl", "grpcurl"}
    for answer in answers.values():
        assert answer["model_name"] == "iris-classes"
        outputs = {output["name"]: output for output in answer["outputs"]}
        assert list(outputs) == ["class", "probability", "output-0"]
    assert answers["curl"]["outputs"][0]["data"] == [SETOSA]
    assert answers["grpcurl"]["outputs"][0]["contents"]["int64_contents"] == [str(SETOSA)]


@pytest.mark.parametrize(
    ("title", "document"),
    [("Explainers and KServe v1", "README.md"), ("Quick start", "explainers.md")],
)
def test_explainer_examples_explain_iris(bundled: ServerProcess, title: str, document: str) -> None:
    (block,) = blocks(section(title, document), "bash")
    commands = shell_commands(block)
    v2, explain, predict = (example_answers(bundled, [command])["curl"] for command in commands)
    assert orjson.loads(v2["outputs"][0]["data"][0]) == explain
    assert explain["meta"] == {"name": "occlusion", "explainer": "iris-explainer"}
    assert explain["data"]["prediction"] == predict["predictions"]
    assert predict["predictions"][0].index(max(predict["predictions"][0])) == SETOSA


def test_the_gzip_example_of_the_docs_answers_iris(bundled: ServerProcess) -> None:
    text = (ROOT / "docs" / "operations.md").read_text()
    (block,) = [block for block in blocks(text, "bash") if "content-encoding: gzip" in block]
    answers = example_answers(bundled, shell_commands(block))
    assert answers["curl"]["model_name"] == "iris"
    assert answers["curl"]["outputs"][0]["shape"] == [1, 3]


def run_block(block: str, server: ServerProcess, folder: Path) -> str:
    """What a docs shell block prints, run in `folder` (where `.venv` is this environment)
    against `server`."""
    (folder / ".venv").symlink_to(Path(sys.executable).parent.parent)
    script = block.replace("localhost:8080", f"127.0.0.1:{server.http_port}")
    script = script.replace("localhost:8081", f"127.0.0.1:{server.grpc_port}")
    result = subprocess.run(
        ["bash", "-ec", script], cwd=folder, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_the_infer_commands_of_the_clients_doc(bundled: ServerProcess, tmp_path: Path) -> None:
    (block,) = blocks(document("clients.md"), "bash")
    text, as_json = run_block(block, bundled, tmp_path).split("\n{", 1)
    assert "output-0" in text
    (output,) = json.loads("{" + as_json)["outputs"]
    assert (output["name"], output["shape"]) == ("output-0", [1, 3])


def test_the_inspection_example_of_the_pipelines_doc(tmp_path: Path) -> None:
    text = document("pipelines.md")
    (block,) = [block for block in blocks(text, "bash") if "pipeline inspect" in block]
    (shown,) = [block for block in blocks(text, "text") if block.startswith("argmax.")]
    with serve(ROOT / "models", env={**os.environ, "OIPSERVE_INSPECT_REQUESTS": "4"}) as server:
        printed = run_block(block, server, tmp_path)
    assert printed.endswith(shown)


def test_serve_command_on_a_fresh_copy(tmp_path: Path) -> None:
    """The first command as written, in a copy of the source tree without a venv (as after
    `git clone`); only the address comes from OIPSERVE_* variables (127.0.0.1, free ports)."""
    copy = tmp_path / "oipserve"
    shutil.copytree(
        ROOT,
        copy,
        ignore=shutil.ignore_patterns(
            ".git", ".venv*", "__pycache__", "*.egg-info", "build", "dist", ".*_cache"
        ),
    )
    (command,) = first_screen_blocks()[0]
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    with running(["bash", "-c", command], cwd=copy, env={**env, **LOCAL_PORTS}, timeout=300) as s:
        assert "model iris version 1 is ready" in s.log
        assert_setosa(example_answers(s))
        client = python_example("clients example")  # with what the first command installed
        client = client.replace("localhost:8080", f"127.0.0.1:{s.http_port}")
        client = client.replace("localhost:8081", f"127.0.0.1:{s.grpc_port}")
        printed = subprocess.run(
            [str(copy / ".venv" / "bin" / "python"), "-c", client],
            cwd=copy,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert printed.returncode == 0, printed.stderr
        assert printed.stdout.count(" 42 [0 2]") == 2
    assert "shutdown complete" in s.log
