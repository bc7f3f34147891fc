"""`python -m app serve ...` as a real process: logs, serving, signals, and clear failures."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import grpc
import httpx
import pytest

from app.cli import main
from app.grpc.generated import open_inference_pb2 as pb
from app.grpc.service import Stub
from tests.payloads import iris_request
from tests.repo import IRIS

MODELS = IRIS.parent
STARTUP_SECONDS = 60.0


@dataclass
class Process:
    """A running `python -m app` and what it logged so far."""

    process: asyncio.subprocess.Process
    log: list[str] = field(default_factory=list)

    async def read_until(self, pattern: str) -> re.Match[str]:
        """The first log line matching `pattern`, reading more lines as needed."""
        assert self.process.stderr is not None
        while True:
            for line in self.log:
                if found := re.search(pattern, line):
                    return found
            raw = await asyncio.wait_for(self.process.stderr.readline(), STARTUP_SECONDS)
            assert raw, f"exited before logging {pattern!r}:\n{''.join(self.log)}"
            self.log.append(raw.decode())

    async def finish(self, within: float = 15.0) -> tuple[int, str]:
        """Wait for the exit: (exit code, whole log)."""
        _, rest = await asyncio.wait_for(self.process.communicate(), within)
        text = "".join(self.log) + rest.decode()
        assert self.process.returncode is not None
        return self.process.returncode, text


Launch = Callable[..., Awaitable[Process]]


@pytest.fixture
async def launch() -> AsyncIterator[Launch]:
    """Start `python -m app ARGS` (extra environment as keywords); killed at the end."""
    started: list[Process] = []

    async def start(*args: str, **env: str) -> Process:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "app",
            *args,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env={**os.environ, **env},
        )
        started.append(Process(process))
        return started[-1]

    yield start
    for running in started:
        if running.process.returncode is None:
            running.process.kill()
            await running.process.wait()


async def _ports(running: Process) -> tuple[int, int]:
    http = await running.read_until(r"REST listening on http://127\.0\.0\.1:(\d+)")
    grpc_port = await running.read_until(r"gRPC listening on 127\.0\.0\.1:(\d+)")
    await running.read_until(r"server ready")
    return int(http[1]), int(grpc_port[1])


async def _check_iris(http_port: int, grpc_port: int) -> None:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{http_port}") as client:
        answer = await client.post("/v2/models/iris/infer", json=iris_request(id="cli"))
        assert answer.status_code == 200, answer.text
        assert answer.json()["outputs"][0]["shape"] == [2, 3]
    async with grpc.aio.insecure_channel(f"127.0.0.1:{grpc_port}") as channel:
        ready = await Stub(channel).ModelReady(pb.ModelReadyRequest(name="iris"))
        assert ready.ready


@pytest.mark.slow
@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
async def test_serves_and_stops_on_signals(launch: Launch, stop: signal.Signals) -> None:
    running = await launch(
        "serve", str(MODELS), "--host", "127.0.0.1", "--http-port", "0", "--grpc-port", "0"
    )
    http_port, grpc_port = await _ports(running)
    await running.read_until(r"model iris version 1 is ready")
    await _check_iris(http_port, grpc_port)
    running.process.send_signal(stop)
    code, log = await running.finish()
    assert code == 0, log
    assert "shutdown complete" in log
    assert "Traceback" not in log


@pytest.mark.slow
async def test_settings_from_the_environment(launch: Launch) -> None:
    running = await launch(
        "serve",
        OIPSERVE_MODEL_REPOSITORY=str(MODELS),
        OIPSERVE_HOST="127.0.0.1",
        OIPSERVE_HTTP_PORT="0",
        OIPSERVE_GRPC_PORT="0",
        OIPSERVE_LOG_LEVEL="debug",
    )
    http_port, grpc_port = await _ports(running)
    await _check_iris(http_port, grpc_port)
    running.process.terminate()
    code, log = await running.finish()
    assert code == 0, log


async def _fails(running: Process) -> str:
    """The one line a start-up failure logs (exit code 1, nothing before or after it)."""
    code, log = await running.finish(within=STARTUP_SECONDS)
    assert code == 1, log
    lines = log.splitlines()
    assert len(lines) == 1, log
    assert " ERROR oipserve: " in lines[0]
    return lines[0]


@pytest.mark.slow
async def test_missing_repository_is_a_clear_error(launch: Launch, tmp_path: Path) -> None:
    log = await _fails(await launch("serve", str(tmp_path / "nowhere"), "--http-port", "0"))
    assert log.endswith(f"model repository {tmp_path / 'nowhere'} is not a folder")


@pytest.mark.slow
@pytest.mark.parametrize("busy", ["--http-port", "--grpc-port"])
async def test_a_busy_port_is_a_clear_error(launch: Launch, busy: str) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        ports = {"--http-port": "0", "--grpc-port": "0", busy: port}
        args = [item for pair in ports.items() for item in pair]
        log = await _fails(await launch("serve", str(MODELS), "--host", "127.0.0.1", *args))
    kind = "HTTP" if busy == "--http-port" else "gRPC"
    assert log.endswith(f"cannot listen for {kind} on 127.0.0.1:{port}: Address already in use")


def test_invalid_settings_are_a_clear_error(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OIPSERVE_GRPC_PORT", "not-a-port")
    assert main(["serve", str(MODELS)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("oipserve: invalid settings:")
    assert "grpc_port" in err


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["serve", "--http-port", "eighty"], "argument --http-port: invalid int value: 'eighty'"),
        (["serve", "--log-level", "loud"], "argument --log-level: invalid choice: 'loud'"),
        ([], "the following arguments are required: command"),
    ],
)
def test_bad_arguments(capsys: pytest.CaptureFixture[str], argv: list[str], expected: str) -> None:
    with pytest.raises(SystemExit) as caught:
        main(argv)
    assert caught.value.code == 2
    assert expected in capsys.readouterr().err


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["--version"])
    assert caught.value.code == 0
    assert capsys.readouterr().out.strip() == "oipserve 0.1.0"


def test_the_console_script() -> None:
    script = Path(sys.executable).with_name("oipserve")
    result = subprocess.run(
        [str(script), "--version"], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == "oipserve 0.1.0"


@pytest.mark.slow
async def test_brokers_out_of_reach_are_a_clear_error(launch: Launch) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]  # bound, not listening: connections are refused
        ports = ["--http-port", "0", "--grpc-port", "0", "--kafka-bootstrap", f"127.0.0.1:{port}"]
        log = await _fails(await launch("serve", str(MODELS), "--host", "127.0.0.1", *ports))
    assert f"cannot reach the Kafka brokers at 127.0.0.1:{port}" in log


@pytest.mark.slow
async def test_sasl_without_credentials_is_a_clear_error(launch: Launch) -> None:
    kafka = ["--kafka-bootstrap", "127.0.0.1:9", "--kafka-security-protocol", "SASL_SSL"]
    log = await _fails(await launch("serve", str(MODELS), "--http-port", "0", *kafka))
    assert log.endswith(
        "Kafka SASL_SSL needs OIPSERVE_KAFKA_SASL_USERNAME and OIPSERVE_KAFKA_SASL_PASSWORD "
        "in the environment"
    )
