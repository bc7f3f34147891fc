"""NVIDIA's tritonclient (HTTP and gRPC) against a real server process: health, model
repository, statistics and model configuration calls. tritonclient runs in a subprocess."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from typing import Any

import pytest

from tests.process import ROOT, serve
from tests.repo import IRIS

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    repository = tmp_path_factory.mktemp("models")
    shutil.copytree(IRIS, repository / "iris")
    with serve(repository) as server:
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "tests.interop.clients.triton_extensions",
                f"127.0.0.1:{server.http_port}",
                f"127.0.0.1:{server.grpc_port}",
            ],
            capture_output=True,
            text=True,
            timeout=90,
            cwd=ROOT,
        )
    assert done.returncode == 0, done.stderr
    found: dict[str, Any] = json.loads(done.stdout)
    return found


@pytest.mark.parametrize("protocol", ["http", "grpc"])
def test_health_and_repository_calls(results: dict[str, Any], protocol: str) -> None:
    found = results[protocol]
    assert (found["live"], found["ready"], found["model_ready"]) == (True, True, True)
    assert {"model_repository", "statistics", "model_configuration"} <= set(found["extensions"])
    assert (found["ready_after_unload"], found["ready_after_load"]) == (False, True)
    assert "model 'nope' has no folder" in found["load_error"]


def test_http_index(results: dict[str, Any]) -> None:
    found = results["http"]
    assert found["index"] == [{"name": "iris", "version": "1", "state": "READY", "reason": ""}]
    assert found["index_after_unload"] == [
        {"name": "iris", "version": "", "state": "UNAVAILABLE", "reason": "unloaded"}
    ]


def test_grpc_index(results: dict[str, Any]) -> None:
    assert results["grpc"]["index"]["models"] == [
        {"name": "iris", "version": "1", "state": "READY"}
    ]


@pytest.mark.parametrize("protocol", ["http", "grpc"])
def test_statistics(results: dict[str, Any], protocol: str) -> None:
    (stats,) = results[protocol]["statistics"]["model_stats"]
    assert (stats["name"], stats["version"]) == ("iris", "1")
    success = stats["inference_stats"]["success"]
    assert int(success["count"]) == 1  # the grpc JSON mapping writes uint64 as strings
    assert int(success["ns"]) > 0
    assert int(stats["inference_stats"]["compute_infer"]["count"]) == 1


def test_statistics_of_one_version(results: dict[str, Any]) -> None:
    assert results["http"]["statistics_v1"] == results["http"]["statistics"]


@pytest.mark.parametrize("protocol", ["http", "grpc"])
def test_model_config(results: dict[str, Any], protocol: str) -> None:
    config = results[protocol]["config"]
    config = config.get("config", config)  # grpc wraps it in ModelConfigResponse
    assert config["name"] == "iris"
    assert config["platform"] == "numpy"
    assert config.get("max_batch_size", 0) == 0
    (tensor,) = config["input"]
    assert (tensor["name"], tensor["data_type"]) == ("input-0", "TYPE_FP32")
    assert [int(d) for d in tensor["dims"]] == [-1, 4]
    assert [int(d) for d in config["output"][0]["dims"]] == [-1, 3]
