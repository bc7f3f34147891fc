"""The server as an operator runs it, a real `oipserve serve` process: shutdown under load,
signals, start-up choices, metrics and JSON logs."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest
from grpc_health.v1.health_pb2 import HealthCheckRequest, HealthCheckResponse
from grpc_health.v1.health_pb2_grpc import HealthStub

from app.grpc.generated import open_inference_pb2 as pb
from app.grpc.service import Stub
from tests.process import ROOT, ServerProcess, running
from tests.repo import add_model

pytestmark = pytest.mark.slow

BODY = {"inputs": [{"name": "a", "shape": [1], "datatype": "INT32", "data": [1]}]}


@contextlib.contextmanager
def serving(repository: Path, *flags: str) -> Iterator[ServerProcess]:
    """`oipserve serve` with JSON logs on 127.0.0.1, ports 0, and `flags`."""
    argv = [sys.executable, "-m", "app", "serve", str(repository), "--host", "127.0.0.1"]
    argv += ["--http-port", "0", "--grpc-port", "0", "--log-format", "json", *flags]
    with running(argv) as server:
        yield server


def records(server: ServerProcess) -> list[dict[str, Any]]:
    """The JSON log records the server wrote so far."""
    return [json.loads(line) for line in list(server.lines) if line.startswith("{")]


def messages(server: ServerProcess) -> list[str]:
    return [record["message"] for record in records(server)]


def wait_for_message(server: ServerProcess, message: str, within: float = 30) -> None:
    deadline = time.monotonic() + within
    while message not in messages(server):
        assert time.monotonic() < deadline, f"never logged {message!r}: {messages(server)}"
        time.sleep(0.02)


def _grpc_request(model: str) -> pb.ModelInferRequest:
    request = pb.ModelInferRequest(model_name=model)
    request.inputs.add(name="a", datatype="INT32", shape=[1]).contents.int_contents.append(1)
    return request


@pytest.fixture
def repository(tmp_path: Path) -> Path:
    add_model(tmp_path, "echo", "tests.toys:Echo")
    add_model(tmp_path, "slow", "tests.toys:Slow", parameters={"seconds": 1.5})
    add_model(tmp_path, "failing", "tests.toys:Failing")
    return tmp_path


class Load:
    """REST and gRPC clients sending requests until `stop_sending` is set; every request's
    outcome is counted, by when it was sent: "before" or "after" SIGTERM."""

    def __init__(self, http_port: int, grpc_port: int) -> None:
        self.http = httpx.AsyncClient(base_url=f"http://127.0.0.1:{http_port}", timeout=30)
        self.channel = grpc.aio.insecure_channel(f"127.0.0.1:{grpc_port}")
        self.stop_sending = asyncio.Event()
        self.phase = "before"
        self.outcomes: Counter[str] = Counter()

    async def rest(self, model: str, pause: float = 0.0) -> None:
        while not self.stop_sending.is_set():
            sent = f"{self.phase} rest {model}"
            try:
                answer = await self.http.post(f"/v2/models/{model}/infer", json=BODY)
                self.outcomes[f"{sent} {answer.status_code}"] += 1
            except httpx.HTTPError as error:
                self.outcomes[f"{sent} {type(error).__name__}"] += 1
            await asyncio.sleep(pause)

    async def grpc(self, model: str, pause: float = 0.0) -> None:
        stub = Stub(self.channel)
        while not self.stop_sending.is_set():
            sent = f"{self.phase} grpc {model}"
            try:
                await stub.ModelInfer(_grpc_request(model), timeout=30)
                self.outcomes[f"{sent} OK"] += 1
            except grpc.aio.AioRpcError as error:
                self.outcomes[f"{sent} {error.code().name}"] += 1
            await asyncio.sleep(pause)

    async def close(self) -> None:
        await self.http.aclose()
        await self.channel.close()


def _assert_shutdown_reported(messages: list[str]) -> None:
    """The log tells the drain, the requests in flight at the close, each finishing."""
    assert any(m.startswith("shutdown: readiness is 503; still serving") for m in messages)
    closing = next(m for m in messages if m.startswith("shutdown: closing the listeners;"))
    assert "requests in flight get up to 10s to finish" in closing
    assert closing.split(";")[1].split()[0] != "0", closing  # slow requests were in flight
    finished = [m for m in messages if m.startswith("finished in-flight request slow/1")]
    assert finished
    assert all(": success in " in m for m in finished)
    assert "shutdown: every request in flight has finished" in messages
    assert messages.index("shutdown: every request in flight has finished") < messages.index(
        "shutdown complete"
    )


async def test_sigterm_under_load_loses_nothing(repository: Path) -> None:
    with serving(repository, "--drain-seconds", "2", "--grace-seconds", "10") as server:
        load = Load(server.http_port, server.grpc_port)
        workers = [
            *(asyncio.create_task(load.rest("echo")) for _ in range(3)),
            *(asyncio.create_task(load.grpc("echo")) for _ in range(3)),
            asyncio.create_task(load.rest("slow", pause=0.2)),
            asyncio.create_task(load.grpc("slow", pause=0.2)),
        ]
        await asyncio.sleep(1.0)
        server.process.send_signal(signal.SIGTERM)
        load.phase = "after"
        signalled = time.monotonic()
        for _ in range(100):
            if (await load.http.get("/v2/health/ready")).status_code == 503:
                break
            await asyncio.sleep(0.01)
        assert time.monotonic() - signalled < 0.5  # readiness turns 503 at once
        ready = await Stub(load.channel).ServerReady(pb.ServerReadyRequest())
        assert not ready.ready
        await asyncio.sleep(1.4)  # the endpoints leave the Service; requests still come
        load.stop_sending.set()  # requests already sent (slow ones too) must still finish
        await asyncio.gather(*workers)
        await load.close()
        code = await asyncio.to_thread(server.process.wait, 30)
        logged = messages(server)

    assert code == 0
    successes = {
        f"{phase} {kind}"
        for phase in ("before", "after")
        for kind in ("rest echo 200", "grpc echo OK", "rest slow 200", "grpc slow OK")
    }
    assert set(load.outcomes) == successes, load.outcomes  # nothing failed, all kinds ran
    assert load.outcomes["after rest echo 200"] > 10
    assert load.outcomes["after grpc echo OK"] > 10
    _assert_shutdown_reported(logged)


async def test_sigint_skips_the_drain_but_lets_requests_finish(repository: Path) -> None:
    with serving(repository, "--drain-seconds", "30") as server:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.http_port}") as http:
            slow = asyncio.create_task(http.post("/v2/models/slow/infer", json=BODY))
            await asyncio.sleep(0.3)
            started = time.monotonic()
            server.process.send_signal(signal.SIGINT)
            answer = await slow
            code = await asyncio.to_thread(server.process.wait, 30)
        assert time.monotonic() - started < 10
        logged = messages(server)
    assert (answer.status_code, code) == (200, 0)
    assert "SIGINT received: shutting down" in logged
    assert not any("still serving" in m for m in logged)
    assert any(m.startswith("finished in-flight request slow/1 over rest: success") for m in logged)


def test_metrics_after_a_few_requests_show_every_documented_series(repository: Path) -> None:
    operations = (ROOT / "docs" / "operations.md").read_text()
    documented = sorted(set(re.findall(r"^\| `(oipserve_\w+)`", operations, re.MULTILINE)))
    assert len(documented) >= 5
    with serving(repository, "--metrics-port", "0", "--log-requests") as server:
        with httpx.Client(base_url=f"http://127.0.0.1:{server.http_port}") as http:
            for _ in range(4):
                assert http.post("/v2/models/echo/infer", json=BODY).status_code == 200
            assert http.post("/v2/models/failing/infer", json=BODY).status_code == 500
            text = subprocess.run(
                ["curl", "-sf", f"http://127.0.0.1:{server.http_port}/metrics"],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            (metrics_port,) = re.findall(r"metrics on http://[\d.]+:(\d+)", server.log)
            own_port = httpx.get(f"http://127.0.0.1:{metrics_port}/metrics").text
        logged = records(server)
    failure = next(r for r in logged if r["message"] == "model failing version 1 failed")
    ended = [r for r in logged if r["logger"] == "oipserve.requests"]
    for name in documented:
        assert f"# TYPE {name} " in text, name
    ok = 'oipserve_requests_total{model="echo",outcome="success",protocol="rest",version="1"} 4.0'
    assert ok in text
    assert 'outcome="internal",protocol="rest",version="1"} 1.0' in text
    assert 'oipserve_model_state{model="echo",state="READY",version="1"} 1.0' in text
    assert ok in own_port
    assert (failure["model"], failure["version"], failure["level"]) == ("failing", "1", "ERROR")
    assert failure["request_id"]
    assert len(ended) == 5
    assert {(r["model"], r["version"], r["protocol"], r["status"]) for r in ended} == {
        ("echo", "1", "rest", "success"),
        ("failing", "1", "rest", "internal"),
    }
    assert ended[-1]["request_id"] == failure["request_id"]
    assert all(r["latency_ms"] > 0 and r["level"] == "INFO" for r in ended)


async def test_a_client_given_request_id_is_in_the_log_lines(repository: Path) -> None:
    with serving(repository, "--log-requests") as server:
        async with httpx.AsyncClient(base_url=server.url) as http:
            for model in ("echo", "failing"):
                headers = {"x-request-id": f"rest-{model}"}
                await http.post(f"/v2/models/{model}/infer", json=BODY, headers=headers)
        async with grpc.aio.insecure_channel(server.grpc_target) as channel:
            given = (("x-request-id", "grpc-echo"),)
            await Stub(channel).ModelInfer(_grpc_request("echo"), metadata=given)
        logged = records(server)
    ended = {
        (r["protocol"], r["model"], r["status"], r["request_id"])
        for r in logged
        if r["logger"] == "oipserve.requests"
    }
    assert ended == {
        ("rest", "echo", "success", "rest-echo"),
        ("rest", "failing", "internal", "rest-failing"),
        ("grpc", "echo", "success", "grpc-echo"),
    }
    failure = next(r for r in logged if r["message"] == "model failing version 1 failed")
    assert failure["request_id"] == "rest-failing"


def test_load_models_chooses_what_loads_at_start(repository: Path) -> None:
    with serving(repository, "--load-models", "echo") as server:
        index = httpx.post(f"http://127.0.0.1:{server.http_port}/v2/repository/index").json()
        ready = httpx.get(f"http://127.0.0.1:{server.http_port}/v2/health/ready")
    assert {(m["name"], m["state"]) for m in index} == {
        ("echo", "READY"),
        ("slow", "UNAVAILABLE"),
        ("failing", "UNAVAILABLE"),
    }
    assert ready.status_code == 200
    with serving(repository, "--load-models", "none") as server:
        index = httpx.post(f"http://127.0.0.1:{server.http_port}/v2/repository/index").json()
    assert {m["reason"] for m in index} == {"not loaded"}


def test_an_unknown_start_up_model_stops_the_command(repository: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "app", "serve", str(repository), "--load-models", "echo,nope"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert "--load-models names 'nope', which is not a model folder" in done.stderr


def test_a_second_signal_cuts_the_drain_short(repository: Path) -> None:
    with serving(repository, "--drain-seconds", "60") as server:
        server.process.send_signal(signal.SIGTERM)
        wait_for_message(server, "shutdown: readiness is 503; still serving new requests for 60s")
        ready = httpx.get(f"http://127.0.0.1:{server.http_port}/v2/health/ready")
        served = httpx.post(f"http://127.0.0.1:{server.http_port}/v2/models/echo/infer", json=BODY)
        started = time.monotonic()
        server.process.send_signal(signal.SIGTERM)
        assert server.process.wait(30) == 0
        assert time.monotonic() - started < 10
        assert "SIGTERM received: cutting the drain short" in messages(server)
    assert (ready.status_code, served.status_code) == (503, 200)


async def test_an_open_health_watch_does_not_hold_up_the_shutdown(repository: Path) -> None:
    with serving(repository, "--grace-seconds", "60") as server:
        async with grpc.aio.insecure_channel(server.grpc_target) as channel:
            watch = HealthStub(channel).Watch(HealthCheckRequest(service=""))
            assert (await watch.read()).status == HealthCheckResponse.SERVING
            started = time.monotonic()
            server.process.send_signal(signal.SIGINT)
            statuses = []
            while (answer := await watch.read()) is not grpc.aio.EOF:
                statuses.append(answer.status)
            assert await watch.code() is grpc.StatusCode.OK
            code = await asyncio.to_thread(server.process.wait, 50)
        assert time.monotonic() - started < 30  # well within the 60 s grace
    assert statuses == [HealthCheckResponse.NOT_SERVING]
    assert code == 0
