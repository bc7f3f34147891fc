"""`--workers N`: N processes serve REST and gRPC on the same ports; a worker that dies is
started again; SIGTERM to the supervisor drains every worker and ends it with code 0."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
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
from tests.repo import add_model, add_pipeline

pytestmark = pytest.mark.slow
BODY = {"inputs": [{"name": "x", "shape": [1], "datatype": "INT8", "data": [1]}]}


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[ServerProcess]:
    repo = tmp_path / "models"
    add_model(repo, "pid", "tests.toys:Pid")
    add_model(repo, "later", "tests.toys:Echo")
    add_model(repo, "echo", "tests.toys:Echo")
    add_pipeline(repo, "chain", {"steps": [{"name": "echo"}], "output": {"steps": ["echo"]}})
    http, grpc_port = free_port(), free_port()
    argv = [sys.executable, "-m", "app", "serve", str(repo), "--host", "127.0.0.1"]
    argv += ["--http-port", str(http), "--grpc-port", str(grpc_port), "--workers", "2"]
    argv += ["--load-models", "pid,echo"]
    with running(argv) as server:
        server.http_port, server.grpc_port = http, grpc_port
        _every_worker_ready(server)
        yield server


def _every_worker_ready(server: ServerProcess, seconds: float = 30) -> None:
    """Until 20 readiness checks in a row, on new connections, answer 200 (a worker that is
    still loading answers 503)."""
    deadline = time.monotonic() + seconds
    ready = 0
    while ready < 20:
        assert time.monotonic() < deadline, server.log
        with httpx.Client(base_url=server.url) as client:
            ok = client.get("/v2/health/ready").status_code == 200
        ready = ready + 1 if ok else 0


def _rest_pid(server: ServerProcess) -> int | None:
    """The worker that answers a request on a new connection (None: one that has not
    loaded its models yet, having just started: the model is unknown or still loading)."""
    with httpx.Client(base_url=server.url) as client:
        answer = client.post("/v2/models/pid/infer", json=BODY)
    if answer.status_code in (404, 503):
        return None
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
        seen |= _answering(server, tries=5)
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
            found = _rest_pid(server)
        except httpx.TransportError:
            found = None
        if found is None:
            time.sleep(0.05)
        else:
            seen.add(found)
    return seen


def test_a_killed_worker_is_started_again(workers: ServerProcess) -> None:
    first = _pids_until(workers, 2)
    with httpx.Client(base_url=workers.url) as client:  # what the new worker must serve too
        assert client.post("/v2/repository/models/later/load").status_code == 200
        assert client.post("/v2/repository/models/echo/unload").status_code == 200
        assert client.post("/v2/repository/models/chain.pipeline/unload").status_code == 200
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
    _every_worker_ready(workers)
    assert _ready_everywhere(workers, "later") == {200}
    assert _ready_everywhere(workers, "echo") == {400}
    assert _ready_everywhere(workers, "chain.pipeline") == {400}
    with httpx.Client(base_url=workers.url) as client:
        for _ in range(20):
            answer = client.post("/v2/models/echo/infer", json=BODY)
            assert (answer.status_code, answer.json()) == (
                404,
                {"error": "model 'echo' is unloaded"},
            )


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


def _ready_everywhere(server: ServerProcess, model: str) -> set[int]:
    """The readiness codes of `model` from 30 requests on new connections (both workers)."""
    codes = set()
    for _ in range(30):
        with httpx.Client(base_url=server.url) as client:
            codes.add(client.get(f"/v2/models/{model}/ready").status_code)
    return codes


def test_a_load_or_unload_through_one_worker_reaches_all(workers: ServerProcess) -> None:
    _pids_until(workers, 2)
    assert _ready_everywhere(workers, "later") == {400}  # a folder, not loaded
    with httpx.Client(base_url=workers.url) as client:
        assert client.post("/v2/repository/models/later/load").status_code == 200
    assert _ready_everywhere(workers, "later") == {200}
    with httpx.Client(base_url=workers.url) as client:
        assert client.post("/v2/repository/models/later/unload").status_code == 200
    assert _ready_everywhere(workers, "later") == {400}


def test_statistics_count_every_workers_requests(workers: ServerProcess) -> None:
    answered = [_rest_pid(workers) for _ in range(30)]
    assert None not in answered
    assert len(set(answered)) == 2
    with httpx.Client(base_url=workers.url) as client:
        (stats,) = client.get("/v2/models/pid/stats").json()["model_stats"]
        every = client.get("/v2/models/stats").json()["model_stats"]
    assert stats["inference_count"] == stats["execution_count"] == 30
    assert stats["inference_stats"]["success"]["count"] == 30
    counts = [(s["name"], s["inference_count"]) for s in every]
    assert counts == [("echo", 0), ("pid", 30), ("chain.pipeline", 0)]
    with httpx.Client(base_url=workers.url) as client:
        metrics = client.get("/metrics").text
    (line,) = [
        line
        for line in metrics.splitlines()
        if line.startswith('oipserve_requests_total{model="pid"')
    ]
    assert line.endswith(" 30.0")  # both workers' requests, in whichever answers
    assert metrics.count("# TYPE oipserve_requests_total counter") == 1


def test_sigterm_under_load_loses_no_request(tmp_path: Path) -> None:
    """Clients keep sending while the workers drain, on keep-alive connections, until an
    answer says `Connection: close` (as a load balancer stops sending to a pod that drains):
    every request is answered."""
    repo = tmp_path / "models"
    add_model(repo, "pid", "tests.toys:Pid")
    http, grpc_port = free_port(), free_port()
    argv = [sys.executable, "-m", "app", "serve", str(repo), "--host", "127.0.0.1"]
    argv += ["--http-port", str(http), "--grpc-port", str(grpc_port), "--workers", "2"]
    argv += ["--drain-seconds", "0.5"]
    outcomes: list[str] = []
    with running(argv) as server:
        server.http_port, server.grpc_port = http, grpc_port
        _pids_until(server, 2)

        def send() -> None:
            with httpx.Client(base_url=server.url) as client:
                while True:
                    try:
                        answer = client.post("/v2/models/pid/infer", json=BODY)
                    except httpx.TransportError as error:
                        outcomes.append(f"lost: {type(error).__name__}")
                        return
                    outcomes.append(str(answer.status_code))
                    if answer.headers.get("connection") == "close":
                        return

        senders = [threading.Thread(target=send) for _ in range(4)]
        for sender in senders:
            sender.start()
        time.sleep(0.5)
        server.process.send_signal(signal.SIGTERM)
        for sender in senders:
            sender.join(timeout=30)
        assert server.process.wait(timeout=30) == 0
    assert not [outcome for outcome in outcomes if outcome.startswith("lost")], outcomes[-8:]
    assert set(outcomes) == {"200"}
    assert outcomes.count("200") > 10
