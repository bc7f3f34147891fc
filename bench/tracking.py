"""Cost of the per-request bookkeeping (request ids, X- headers, statistics, metrics,
in-flight tracking, deadlines, disconnect watch): this tree against a git revision (the floor).

Both trees answer the same small request to the same async echo model, in process: REST
through the ASGI application, gRPC through a grpc.aio server and client on loopback. A shared
2-core machine makes timings too noisy for a difference of a few microseconds, so each run
counts the main thread's instructions under valgrind (callgrind): two runs of different
lengths per tree, the difference divided by the extra requests, so start-up cancels out. The
instructions are converted to microseconds at the rate of the floor's REST run without
valgrind (main thread CPU time per instruction; gRPC's main thread also spends kernel time,
which valgrind does not count).

    python bench/tracking.py [--against REV] [--requests 1000]
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tarfile
import tempfile
import time
from io import BytesIO
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODEL = """
from app import Predictor


class Echo(Predictor):
    async def predict(self, inputs):
        return dict(inputs)
"""
SETTINGS = '{"name": "echo", "implementation": "model:Echo"}'
BODY = b'{"inputs":[{"name":"a","shape":[1,4],"datatype":"FP32","data":[1,2,3,4]}]}'
WARM_UP = 200


def _repository(folder: Path) -> Path:
    model = folder / "echo"
    model.mkdir(parents=True)
    (model / "model.py").write_text(MODEL)
    (model / "model-settings.json").write_text(SETTINGS)
    return folder


async def _rest(repository: Path, count: int) -> float:
    """Answer WARM_UP + count REST requests in process; seconds per measured request."""
    from app.dataplane import DataPlane
    from app.registry import ModelRegistry
    from app.rest import create_app
    from app.settings import ServerSettings

    settings = ServerSettings(model_repository=repository)
    registry = ModelRegistry(repository)
    await registry.load_repository()
    dataplane = DataPlane(registry, settings)
    dataplane.mark_started()
    app = create_app(dataplane, settings)
    headers = [(b"host", b"x"), (b"content-type", b"application/json"), (b"user-agent", b"b")]
    headers.append((b"content-length", str(len(BODY)).encode()))
    scope: dict[str, object] = {"type": "http", "asgi": {"version": "3.0"}, "method": "POST"}
    scope |= {"http_version": "1.1"}
    scope |= {"scheme": "http", "path": "/v2/models/echo/infer", "query_string": b""}
    scope |= {"root_path": "", "headers": headers, "client": ("127.0.0.1", 1)}
    scope |= {"raw_path": b"/v2/models/echo/infer", "server": ("127.0.0.1", 2)}

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": BODY, "more_body": False}

    async def send(message: object) -> None:
        return None

    for _ in range(WARM_UP):
        await app(dict(scope), receive, send)
    started = time.thread_time()
    for _ in range(count):
        await app(dict(scope), receive, send)
    return (time.thread_time() - started) / max(count, 1)


async def _grpc(repository: Path, count: int) -> float:
    """Answer WARM_UP + count gRPC requests over loopback; seconds per measured request."""
    import grpc

    from app.grpc.generated import open_inference_pb2 as pb
    from app.grpc.service import Stub
    from app.server import Server
    from app.settings import ServerSettings

    settings = ServerSettings(model_repository=repository, host="127.0.0.1")
    server = Server(settings.model_copy(update={"http_port": 0, "grpc_port": 0}))
    await server.start()
    request = pb.ModelInferRequest(model_name="echo")
    request.inputs.add(name="a", datatype="FP32", shape=[1, 4])
    request.raw_input_contents.append(b"\0" * 16)
    async with grpc.aio.insecure_channel(f"127.0.0.1:{server.grpc_port}") as channel:
        stub = Stub(channel)
        for _ in range(WARM_UP):
            await stub.ModelInfer(request)
        started = time.thread_time()
        for _ in range(count):
            await stub.ModelInfer(request)
        spent = (time.thread_time() - started) / max(count, 1)
    await server.stop(grace=0)
    return spent


def _drive(protocol: str, count: int) -> None:
    """Run in the tree of the current folder: answer requests, print seconds per request."""
    sys.path.insert(0, os.getcwd())
    import uvloop

    with tempfile.TemporaryDirectory() as folder:
        repository = _repository(Path(folder) / "models")
        run = _rest if protocol == "rest" else _grpc
        print(f"seconds {uvloop.run(run(repository, count))}")


def _checkout(revision: str, into: Path) -> Path:
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", revision], capture_output=True, check=True
    ).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into


def _run(tree: Path, protocol: str, count: int, valgrind: bool) -> float:
    """Instructions of the main thread (under valgrind; grpc's own threads poll for a
    varying while) or seconds per request of one driver run."""
    command = [sys.executable, str(Path(__file__).resolve()), "--drive", protocol, str(count)]
    env = {**os.environ, "PYTHONHASHSEED": "0", "GRPC_VERBOSITY": "ERROR"}
    with tempfile.TemporaryDirectory() as folder:
        if valgrind:
            output = f"--callgrind-out-file={folder}/callgrind"
            command = ["valgrind", "--tool=callgrind", "--separate-threads=yes", output, *command]
        done = subprocess.run(command, cwd=tree, capture_output=True, text=True, env=env)
        if done.returncode != 0:
            raise SystemExit(f"driver failed in {tree}:\n{done.stderr[-3000:]}")
        if valgrind:
            main_thread = (Path(folder) / "callgrind-01").read_text()
            return float(re.findall(r"^summary: (\d+)", main_thread, re.MULTILINE)[0])
    return float(re.findall(r"seconds (\S+)", done.stdout)[-1])


def _instructions(tree: Path, protocol: str, requests: int) -> float:
    short = _run(tree, protocol, 0, valgrind=True)
    long = _run(tree, protocol, requests, valgrind=True)
    return (long - short) / requests


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--drive":
        _drive(sys.argv[2], int(sys.argv[3]))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", default="main", help="git revision of the floor")
    parser.add_argument("--requests", type=int, default=1000)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        floor = _checkout(options.against, Path(folder) / "floor")
        seconds = min(_run(floor, "rest", 3000, valgrind=False) for _ in range(3))
        per_instruction: float | None = None
        for protocol in ("rest", "grpc"):
            base = _instructions(floor, protocol, options.requests)
            ours = _instructions(ROOT, protocol, options.requests)
            per_instruction = per_instruction or seconds / base
            extra_us = (ours - base) * per_instruction * 1e6
            print(
                f"{protocol}: floor {base:,.0f} instructions/request, this tree {ours:,.0f} "
                f"(ratio {ours / base:.3f}): +{ours - base:,.0f} instructions, "
                f"about {extra_us:+.1f} us at {per_instruction * 1e9:.3f} ns/instruction"
            )


if __name__ == "__main__":
    main()
