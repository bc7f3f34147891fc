"""Starting the servers under test (pinned to the server core) and capturing oipserve's
answers, which the floors then send back byte for byte."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import grpc
import numpy as np

from app.protocol.codecs.messages import response_from_body
from bench.payloads import GRPC_PATH, IMAGE, ROW, Scenario

ROOT = Path(__file__).resolve().parent.parent
MODELS = ROOT / "bench" / "models"
SMALL_W = np.arange(12, dtype=np.float32).reshape(4, 3) / 10  # as in models/small/small.py


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _wait_for_port(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args!r} exited with {process.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
            return
        time.sleep(0.1)
    raise RuntimeError(f"{process.args!r} did not listen on port {port} within 60 s")


@contextlib.contextmanager
def running(
    command: list[str], core: int | str, ports: list[int], env: dict[str, str] | None = None
) -> Iterator[int]:
    """Run `command` pinned to `core` until the block ends; yields its pid once every port
    in `ports` accepts connections."""
    process = subprocess.Popen(["taskset", "-c", str(core), *command], cwd=ROOT, env=env)
    try:
        for port in ports:
            _wait_for_port(port, process)
        yield process.pid
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def oipserve_command(http_port: int, grpc_port: int) -> list[str]:
    return [
        *(sys.executable, "-m", "app", "serve", str(MODELS), "--host", "127.0.0.1"),
        *("--http-port", str(http_port), "--grpc-port", str(grpc_port), "--log-level", "warning"),
    ]


def wait_ready(http_port: int) -> None:
    """Wait until oipserve on `http_port` reports every model ready."""
    url = f"http://127.0.0.1:{http_port}/v2/health/ready"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=2) as answer:
            if answer.status == 200:
                return
        time.sleep(0.1)
    raise RuntimeError("oipserve did not become ready within 60 s")


def capture_rest(base_url: str, scenario: Scenario) -> tuple[bytes, dict[str, str]]:
    """oipserve's answer to the scenario's request (checked), and its content headers."""
    request = urllib.request.Request(
        base_url + scenario.path,
        data=scenario.body,
        headers=scenario.headers,
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        body = answer.read()
        kept = ("Content-Type", "Inference-Header-Content-Length")
        headers = {name: answer.headers[name] for name in kept if answer.headers[name]}
    length = headers.get("Inference-Header-Content-Length")
    (output,) = response_from_body(body, int(length) if length else None).outputs
    check_answer(scenario, output.data)
    return body, headers


def capture_grpc(base_url: str, scenario: Scenario) -> bytes:
    """oipserve's serialized ModelInferResponse to the scenario's request (checked)."""
    from app.grpc.convert import response_from_proto
    from app.grpc.generated import open_inference_pb2 as pb

    with grpc.insecure_channel(base_url.removeprefix("http://")) as channel:
        call: grpc.UnaryUnaryMultiCallable[bytes, bytes] = channel.unary_unary(GRPC_PATH)
        answer = call(scenario.message, timeout=30)
    (output,) = response_from_proto(pb.ModelInferResponse.FromString(answer)).outputs
    check_answer(scenario, output.data)
    return answer


def check_answer(scenario: Scenario, data: np.ndarray) -> None:
    """RuntimeError unless `data` holds the values the scenario's model must answer."""
    answers: dict[str, np.ndarray] = {"small": ROW @ SMALL_W, "identity": IMAGE}
    expected = answers.get(scenario.model, ROW)  # the pipeline's steps answer their input
    if not np.allclose(data, expected):
        raise RuntimeError(f"{scenario.name}: oipserve answered wrong values")
