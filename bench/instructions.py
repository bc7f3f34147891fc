"""Instructions per grpc-small or rest-small request, counted by callgrind for the whole
server process under load: the floor, the predict-only handler (gRPC) and oipserve, each with
its grpc core or uvicorn, all its threads and the interpreter (the kernel's share is not
counted). Unlike seconds, the counts repeat from run to run whatever else the host is doing,
so they show where a difference between servers (or two versions of one) comes from.

    python -m bench.instructions [--scenario rest-small] [--requests 3000] [--warmup 1000]
                                 [--only floor handler]

Each server starts under `valgrind --tool=callgrind` with its counting off; a load of 16
concurrent calls (as the scenario's) warms it up, then the count runs over `--requests` calls.
Run one at a time: a second count on the same cores changes how calls batch.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import grpc
import httpx
import orjson

from bench import servers
from bench.payloads import GRPC_PATH, Scenario, scenario

SCENARIOS = ("grpc-small", "rest-small")
SERVERS = ("floor", "handler", "oipserve")
_STREAMS = 16
_START_SECONDS = 300  # python and grpc start slowly under valgrind


async def load(small: Scenario, port: int, requests: int, path: str | None = None) -> None:
    """`requests` calls of `small` (REST: to `path`, oipserve's by default), `_STREAMS` at a
    time (on one gRPC channel, or as many REST connections); each must answer."""
    left = iter(range(requests))
    if small.transport == "grpc":
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            call: grpc.aio.UnaryUnaryMultiCallable[bytes, bytes] = channel.unary_unary(GRPC_PATH)

            async def stream() -> None:
                for _ in left:
                    await call(small.message)

            await asyncio.gather(*(stream() for _ in range(_STREAMS)))
        return
    limits = httpx.Limits(max_connections=_STREAMS)
    url = f"http://127.0.0.1:{port}"
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=_START_SECONDS) as client:

        async def post() -> None:
            for _ in left:
                answer = await client.post(target, content=small.body, headers=small.headers)
                answer.raise_for_status()

        target = path or small.path
        await asyncio.gather(*(post() for _ in range(_STREAMS)))


async def _until_answering(
    small: Scenario, port: int, path: str | None, process: subprocess.Popen[bytes]
) -> None:
    deadline = asyncio.get_running_loop().time() + _START_SECONDS
    while process.poll() is None:
        with contextlib.suppress(grpc.aio.AioRpcError, httpx.HTTPError):
            await load(small, port, 1, path)
            return
        if asyncio.get_running_loop().time() > deadline:
            break
        await asyncio.sleep(1)
    raise RuntimeError(f"{process.args!r} did not answer {small.name}")


def _command(server: str, small: Scenario, port: int, work: Path) -> list[str]:
    python = [sys.executable, "-m"]
    if server == "floor":
        floor = "bench.floor_grpc" if small.transport == "grpc" else "bench.floor_rest"
        return [*python, floor, str(port), str(work / "answers.json")]
    if server == "handler":
        return [*python, "bench.minimal_grpc", str(port), str(servers.MODELS)]
    if small.transport == "grpc":
        return servers.oipserve_command(servers.free_port(), port)
    return servers.oipserve_command(port, servers.free_port())


@contextlib.contextmanager
def _under_callgrind(command: list[str], out: Path) -> Iterator[subprocess.Popen[bytes]]:
    valgrind = ["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={out}"]
    process = subprocess.Popen([*valgrind, *command], cwd=servers.ROOT, stderr=subprocess.DEVNULL)
    try:
        yield process
    finally:
        process.kill()
        process.wait()


def _control(pid: int, *option: str) -> None:
    subprocess.run(["callgrind_control", *option, str(pid)], check=True, capture_output=True)


def counted(out: Path) -> int:
    """The instructions of every dump callgrind wrote for one run (`out`, `out.1`, ...)."""
    total = 0
    for dump in out.parent.glob(out.name + "*"):
        for line in dump.read_text().splitlines():
            if line.startswith("totals:"):
                total += int(line.split()[1])
    return total


async def per_request(
    server: str, small: Scenario, work: Path, requests: int, warmup: int
) -> float:
    """Instructions per request of `small` to `server`, counted over `requests` calls."""
    port = servers.free_port()
    out = work / f"{server}.callgrind"
    rest_floor = server == "floor" and small.transport == "rest"
    path = f"/{small.name}" if rest_floor else None
    with _under_callgrind(_command(server, small, port, work), out) as process:
        await _until_answering(small, port, path, process)
        if server == "oipserve":  # the floor answers what oipserve answers, byte for byte
            _keep_answer(small, port, work)
        await load(small, port, warmup, path)
        _control(process.pid, "--instr=on")
        await load(small, port, requests, path)
        _control(process.pid, "--instr=off")
        _control(process.pid, "--dump")
        total = counted(out)
    if not total:
        raise RuntimeError(f"callgrind counted nothing for {server}")
    return total / requests


def _keep_answer(small: Scenario, port: int, work: Path) -> None:
    """oipserve's answer, in the answers file the floor of `small` reads."""
    url = f"http://127.0.0.1:{port}"
    answer = work / "small.answer"
    if small.transport == "grpc":
        answer.write_bytes(servers.capture_grpc(url, small))
        answers: dict[str, object] = {small.model: str(answer)}
    else:
        body, headers = servers.capture_rest(url, small)
        answer.write_bytes(body)
        answers = {f"/{small.name}": {"headers": headers, "body": str(answer)}}
    (work / "answers.json").write_bytes(orjson.dumps(answers))


async def measure(
    chosen: list[str], requests: int, warmup: int, name: str = "grpc-small"
) -> dict[str, float]:
    """Instructions per request of scenario `name` to each chosen server (oipserve first:
    the floor needs its answer, so it is always measured when the floor is)."""
    small = scenario(name)
    if small.transport == "rest" and "handler" in chosen:
        raise ValueError("the predict-only handler answers gRPC only")
    with tempfile.TemporaryDirectory(prefix="oipserve-instructions-") as folder:
        work = Path(folder)
        order = [server for server in ("oipserve", "floor", "handler") if server in chosen]
        if "floor" in order and "oipserve" not in order:
            order.insert(0, "oipserve")
        return {
            server: await per_request(server, small, work, requests, warmup) for server in order
        }


def report(counts: dict[str, float]) -> str:
    """A table of the counts, with each server's ratio (floor / server) when the floor ran."""
    floor = counts.get("floor")
    lines = ["| server | instructions per request | floor / server |", "| --- | --- | --- |"]
    for name in SERVERS:
        if name in counts:
            ratio = f"{floor / counts[name]:.2f}" if floor else ""
            lines.append(f"| {name} | {counts[name] / 1000:,.1f}k | {ratio} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.instructions", description=__doc__)
    parser.add_argument("--scenario", choices=SCENARIOS, default="grpc-small")
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--warmup", type=int, default=1000)
    parser.add_argument("--only", nargs="+", choices=SERVERS, default=list(SERVERS))
    options = parser.parse_args()
    chosen = options.only
    if options.scenario == "rest-small":  # the predict-only handler answers gRPC only
        chosen = [server for server in chosen if server != "handler"]
    counts = measure(chosen, options.requests, options.warmup, options.scenario)
    print(report(asyncio.run(counts)))


if __name__ == "__main__":
    main()
