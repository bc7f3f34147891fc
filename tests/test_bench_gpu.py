"""The GPU bench scenario: without PyTorch and a CUDA device it skips itself with one line;
its measuring part (a server pinned to its cores, client processes over REST binary and gRPC
raw contents, the server's statistics split per request) runs on any machine, here with the
bench's identity model on the CPU and two images a request."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bench import gpu
from bench.servers import MODELS, ROOT

pytestmark = pytest.mark.slow


def test_without_cuda_the_scenario_skips_itself_in_one_line() -> None:
    why = gpu.cuda_missing()
    if why is None:
        pytest.skip("this machine can run the scenario: python -m bench.gpu")
    done = subprocess.run(
        [sys.executable, "-m", "bench.gpu", "--seconds", "1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0
    assert done.stdout == f"gpu: skipped ({why})\n"


@pytest.fixture
def identity_repository(tmp_path: Path) -> Path:
    repository = tmp_path / "models"
    shutil.copytree(MODELS / "identity", repository / "identity")
    return repository


def test_each_protocol_is_measured_with_the_servers_time_per_request(
    identity_repository: Path,
) -> None:
    data = gpu.images(2)
    with gpu.serving(identity_repository, "0") as ports:
        runs = [
            gpu.served(ports, "identity", data, protocol, 1, 1.0, "1") for protocol in gpu.PROTOCOLS
        ]
    for figures, protocol in zip(runs, gpu.PROTOCOLS, strict=True):
        assert figures.name == f"{protocol}, 1 client"
        assert figures.images_per_s > 10  # 2 images a request, many requests a second
        assert figures.input_ms > 0  # reading 1.2 MB and decoding it took time
        assert figures.output_ms > 0
        assert figures.infer_ms < figures.input_ms + figures.output_ms  # the identity is free
    floor = gpu.Figures("bare loop", runs[0].images_per_s * 2)
    lines = gpu.report(floor, runs).splitlines()
    assert lines[1].split() == ["bare", "loop", f"{floor.images_per_s:.0f}"]
    assert lines[2].split()[4] == "0.50"  # "rest, 1 client": half the floor's images/s
    assert lines[-1].startswith("gpu: target >= 0.8")
