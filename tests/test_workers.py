"""`--workers N`: N processes serve REST and gRPC on the same ports; a worker that dies is
started again; SIGTERM to the supervisor drains every worker and ends it with code 0."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import httpx
import numpy as np
import pytest

from app.grpc.generated import open_inference_pb2 as pb
from app.grpc.service import Stub
from tests.client.servers import free_port
from tests.process import ServerProcess, running
from tests.repo import add_model

pytestmark = pytest.mark.slow
BODY = {"inputs": [{"name": "x", "shape": [1], "datatype": "INT8", "data": [1]}]}


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[ServerProcess]:
    repo = tmp_path / "models"
    add_model(repo, "pid", "tests.toys:Pid")
    http, grpc_port = free_port(), free_port()
    argv = [sys.executable, "-m", "app", "serve", str(repo), "--host", "127.0.0.1"]
    argv += ["--http-port", str(http), "--grpc-port", str(grpc_port), "--workers", "2"]
    with running(argv) as server:
        server.http_port, server.grpc_port = http, grpc_port
        yield server


def _rest_pid(server: ServerProcess) -> int:
    """The worker that answers a request on a new connection."""
    with httpx.Client(base_url=server.url) as client:
        answer = client.post("/v2/models/pid/infer", json=BODY)
    assert answer.status_code == 200, answer.text
    return int(answer.json()["outputs"][0]["data"][0])


async def _grpc_pid(server: ServerProcess) -> int:
    request = pb.ModelInferRequest(model_name="pid")
    request.inputs.add(name="x", datatype="INT8", shape=[1]).contents.int_contents.append(1)
    async with grpc.aio.insecure_channel(server.grpc_target) as channel:
        answer = await Stub(channel).ModelInfer(request)
    if answer.raw_output_contents:
        return int(np.frombuffer(answer.raw_output_contents[0], dtype="<i8")[0])
    return int(answer.outputs[0].contents.int64_contents[0])


def _pids_until(server: ServerProcess, count: int, seconds: float = 30) -> set[int]:
    """The workers seen answering, asking until `count` different ones have."""
    seen: set[int] = set()
    deadline = time.monotonic() + seconds
    while len(seen) < count and time.monotonic() < deadline:
        try:
            seen.add(_rest_pid(server))
        except httpx.TransportError:
            time.sleep(0.05)
    assert len(seen) >= count, (seen, server.log)
    return seen


async def test_both_protocols_reach_every_worker(workers: ServerProcess) -> None:
    rest = _pids_until(workers, 2)
    grpc_seen = {await _grpc_pid(workers) for _ in range(40)}
    assert len(grpc_seen) == 2
    assert grpc_seen == rest
    assert os.getpid() not in rest


def _answering(server: ServerProcess, tries: int = 30) -> set[int]:
    """The workers that answered `tries` requests on new connections."""
    seen = set()
    for _ in range(tries):
        try:
            seen.add(_rest_pid(server))
        except httpx.TransportError:
            time.sleep(0.05)
    return seen


def test_a_killed_worker_is_started_again(workers: ServerProcess) -> None:
    first = _pids_until(workers, 2)
    victim = min(first)
    os.kill(victim, signal.SIGKILL)
    deadline = time.monotonic() + 30
    now = _answering(workers)
    while time.monotonic() < deadline and (victim in now or len(now) < 2):
        time.sleep(0.2)
        now = _answering(workers)
    assert victim not in now
    assert len(now) == 2
    assert len(now - first) == 1, (first, now)  # the one started again
    assert "exited with -9" in workers.log


def test_sigterm_drains_every_worker(workers: ServerProcess) -> None:
    pids = _pids_until(workers, 2)
    workers.process.send_signal(signal.SIGTERM)
    assert workers.process.wait(timeout=30) == 0
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def test_workers_need_fixed_ports(tmp_path: Path) -> None:
    argv = [sys.executable, "-m", "app", "serve", str(tmp_path), "--workers", "2"]
    done = subprocess.run([*argv, "--http-port", "0"], capture_output=True, text=True, timeout=30)
    assert done.returncode == 1
    (line,) = done.stderr.splitlines()
    assert line.endswith("--workers needs fixed ports: workers share them (not port 0)")
