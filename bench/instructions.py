"""Instructions per grpc-small request, counted by callgrind for the whole server process
under load: the floor, the predict-only handler and oipserve, each with its grpc core, all its
threads and the interpreter (the kernel's share is not counted). Unlike seconds, the counts
repeat from run to run whatever else the host is doing, so they show where a difference
between servers comes from.

    python -m bench.instructions [--requests 3000] [--warmup 1000] [--only floor handler]

Each server starts under `valgrind --tool=callgrind` with its counting off; a load of 16
concurrent calls (as grpc-small's) warms it up, then the count runs over `--requests` calls.
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
import orjson

from bench import servers
from bench.payloads import GRPC_PATH, scenario

SMALL = scenario("grpc-small")
SERVERS = ("floor", "handler", "oipserve")
_STREAMS = SMALL.connections
_START_SECONDS = 300  # python and grpc start slowly under valgrind


async def load(port: int, requests: int) -> None:
    """`requests` grpc-small calls, `_STREAMS` at a time on one channel; each must answer."""
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        infer: grpc.aio.UnaryUnaryMultiCallable[bytes, bytes] = channel.unary_unary(GRPC_PATH)
        left = iter(range(requests))

        async def stream() -> None:
            for _ in left:
                await infer(SMALL.message, timeout=_START_SECONDS)

        await asyncio.gather(*(stream() for _ in range(_STREAMS)))


async def _until_answering(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = asyncio.get_running_loop().time() + _START_SECONDS
    while process.poll() is None:
        with contextlib.suppress(grpc.aio.AioRpcError):
            await load(port, 1)
            return
        if asyncio.get_running_loop().time() > deadline:
            break
        await asyncio.sleep(1)
    raise RuntimeError(f"{process.args!r} did not answer grpc-small")


def _command(server: str, port: int, work: Path) -> list[str]:
    python = [sys.executable, "-m"]
    if server == "floor":
        return [*python, "bench.floor_grpc", str(port), str(work / "answers.json")]
    if server == "handler":
        return [*python, "bench.minimal_grpc", str(port), str(servers.MODELS)]
    return servers.oipserve_command(servers.free_port(), port)


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


async def per_request(server: str, work: Path, requests: int, warmup: int) -> float:
    """Instructions per grpc-small request of `server`, counted over `requests` calls."""
    port = servers.free_port()
    out = work / f"{server}.callgrind"
    with _under_callgrind(_command(server, port, work), out) as process:
        await _until_answering(port, process)
        if server == "oipserve":  # the floor answers what oipserve answers, byte for byte
            answer = servers.capture_grpc(f"http://127.0.0.1:{port}", SMALL)
            (work / "small.answer").write_bytes(answer)
            answers = {SMALL.model: str(work / "small.answer")}
            (work / "answers.json").write_bytes(orjson.dumps(answers))
        await load(port, warmup)
        _control(process.pid, "--instr=on")
        await load(port, requests)
        _control(process.pid, "--instr=off")
        _control(process.pid, "--dump")
        total = counted(out)
    if not total:
        raise RuntimeError(f"callgrind counted nothing for {server}")
    return total / requests


async def measure(chosen: list[str], requests: int, warmup: int) -> dict[str, float]:
    """Instructions per request of each chosen server (oipserve first: the floor needs its
    answer, so it is always measured when the floor is)."""
    with tempfile.TemporaryDirectory(prefix="oipserve-instructions-") as folder:
        work = Path(folder)
        order = [name for name in ("oipserve", "floor", "handler") if name in chosen]
        if "floor" in order and "oipserve" not in order:
            order.insert(0, "oipserve")
        return {name: await per_request(name, work, requests, warmup) for name in order}


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
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--warmup", type=int, default=1000)
    parser.add_argument("--only", nargs="+", choices=SERVERS, default=list(SERVERS))
    options = parser.parse_args()
    print(report(asyncio.run(measure(options.only, options.requests, options.warmup))))


if __name__ == "__main__":
    main()
