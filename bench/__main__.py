"""The benchmark: oipserve and the bare floors side by side, one table.

    python -m bench [--duration 10] [--warmup 2] [--rounds 1] [--only rest-small ...]

Servers run pinned to one core (`--server-core`, default 0), the load generators (wrk for
REST, h2load for gRPC) to another (`--client-core`, default 1). The floors run with the
malloc settings oipserve sets for itself (app.memory); for the large scenarios a second
oipserve runs with glibc's defaults (OIPSERVE_TUNE_MALLOC=false), to show what they are worth.
grpc-small is measured on the predict-only handler too (bench.minimal_grpc), the ceiling of
any complete servicer on grpc.aio. The pipeline scenarios (bench/models/chain3: three
microsecond models in a chain) are measured against one step's model on the same server, under
load and one request at a time.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

import orjson

from app.memory import MALLOC_ENV
from bench import servers
from bench.measure import Load, Result
from bench.payloads import Scenario, scenarios
from bench.report import MINIMAL, ONE_STEP, Row, table

TOOLS = {"wrk": "wrk", "h2load": "nghttp2-client", "taskset": "util-linux"}
UNTUNED = "oipserve, malloc defaults"
REFERENCED = {"grpc-small"}
"""Scenarios measured on the predict-only handler too (bench.minimal_grpc): the ceiling of
any servicer that answers a request in Python on grpc.aio."""


def ensure_tools() -> None:
    """Install the Debian packages of missing load generators (as root), else say which."""
    missing = sorted({package for tool, package in TOOLS.items() if not shutil.which(tool)})
    if not missing:
        return
    if os.geteuid() == 0 and shutil.which("apt-get"):
        if subprocess.run(["apt-get", "install", "-y", "-q", *missing], check=False).returncode:
            subprocess.run(["apt-get", "update", "-q"], check=True)
            subprocess.run(["apt-get", "install", "-y", "-q", *missing], check=True)
        return
    sys.exit(f"bench needs {', '.join(missing)}: sudo apt-get install -y {' '.join(missing)}")


@dataclass(frozen=True)
class Started:
    """A running server: its pid and the base URLs of its REST and gRPC ports."""

    pid: int
    rest: str = ""
    grpc: str = ""


@dataclass(frozen=True)
class Target:
    """A server under one scenario's load (`sent`: the scenario whose request it gets, when
    not the scenario's own)."""

    label: str
    pid: int
    url: str
    floor: bool
    sent: Scenario | None = None


def _targets(scenario: Scenario, started: dict[str, Started]) -> list[Target]:
    if scenario.transport == "grpc":
        floor = started["grpc-floor"]
        targets = [Target("grpc.aio floor", floor.pid, floor.grpc + scenario.path, True)]
    else:
        floor = started["rest-floor"]
        targets = [Target("uvicorn floor", floor.pid, f"{floor.rest}/{scenario.name}", True)]
        if scenario.name == "rest-large":
            targets.append(Target("orjson+numpy floor", floor.pid, f"{floor.rest}/parse", True))
    if scenario.name in REFERENCED:  # started with the floors whenever one is chosen
        minimal = started["grpc-minimal"]
        targets.append(Target(MINIMAL, minimal.pid, minimal.grpc + scenario.path, False))
    if scenario.step:  # the pipeline compared with one step's model, on the same server
        one, server = scenario.one_step(), started["oipserve"]
        base = server.grpc if scenario.transport == "grpc" else server.rest
        targets.append(Target(ONE_STEP, server.pid, base + one.path, False, one))
    servers_under_test = ["oipserve", UNTUNED] if scenario.large else ["oipserve"]
    for name in servers_under_test:
        if name in started:
            server = started[name]
            base = server.grpc if scenario.transport == "grpc" else server.rest
            targets.append(Target(name, server.pid, base + scenario.path, False))
    return targets


def _median(runs: list[Result]) -> Result:
    return sorted(runs, key=lambda r: r.rps)[len(runs) // 2]


def _capture(chosen: list[Scenario], oipserve: Started, work: Path) -> dict[str, int]:
    """Save each request body and oipserve's answer; write the floors' answer files. Returns
    the size of each gRPC answer (how h2load's output tells errors)."""
    rest_answers: dict[str, dict[str, object]] = {}
    grpc_answers: dict[str, str] = {}
    sizes: dict[str, int] = {}
    for scenario in [*chosen, *(s.one_step() for s in chosen if s.step)]:
        (work / f"{scenario.name}.body").write_bytes(scenario.body)
        answer_file = work / f"{scenario.name}.answer"
        if scenario.transport == "rest":
            body, headers = servers.capture_rest(oipserve.rest, scenario)
            rest_answers[f"/{scenario.name}"] = {"headers": headers, "body": str(answer_file)}
        else:
            body = servers.capture_grpc(oipserve.grpc, scenario)
            grpc_answers.setdefault(scenario.model, str(answer_file))
            sizes[scenario.name] = len(body)
        answer_file.write_bytes(body)
    (work / "rest-answers.json").write_bytes(orjson.dumps(rest_answers))
    (work / "grpc-answers.json").write_bytes(orjson.dumps(grpc_answers))
    return sizes


def _start(stack: contextlib.ExitStack, options: argparse.Namespace, tuned: bool) -> Started:
    http, grpc = servers.free_port(), servers.free_port()
    env = None if tuned else {**os.environ, "OIPSERVE_TUNE_MALLOC": "false"}
    command = servers.oipserve_command(http, grpc)
    pid = stack.enter_context(servers.running(command, options.server_core, [http], env=env))
    servers.wait_ready(http)
    return Started(pid, f"http://127.0.0.1:{http}", f"http://127.0.0.1:{grpc}")


def _start_floors(
    stack: contextlib.ExitStack, work: Path, core: int, minimal: bool
) -> dict[str, Started]:
    """The floors, and the predict-only handler if `minimal`, with oipserve's malloc tuning
    (so that ratios compare code, not heaps)."""
    env = {**os.environ, **MALLOC_ENV}
    started = {}
    commands = {
        "rest-floor": ("bench.floor_rest", str(work / "rest-answers.json")),
        "grpc-floor": ("bench.floor_grpc", str(work / "grpc-answers.json")),
    }
    if minimal:
        commands["grpc-minimal"] = ("bench.minimal_grpc", str(servers.MODELS))
    for name, (module, argument) in commands.items():
        port = servers.free_port()
        command = [sys.executable, "-m", module, str(port), argument]
        pid = stack.enter_context(servers.running(command, core, [port], env=env))
        url = f"http://127.0.0.1:{port}"
        started[name] = Started(pid, rest=url, grpc=url)
    return started


def _check_minimal(
    referenced: list[Scenario], started: dict[str, Started], sizes: dict[str, int]
) -> None:
    """The predict-only handler's answers must be right, and as long as oipserve's: h2load's
    output tells errors by the answer size."""
    for scenario in referenced:
        answer = servers.capture_grpc(started["grpc-minimal"].grpc, scenario)
        if len(answer) != sizes[scenario.name]:
            raise RuntimeError(
                f"{scenario.name}: the predict-only handler answers {len(answer)} bytes, "
                f"oipserve {sizes[scenario.name]}"
            )


def run(options: argparse.Namespace) -> list[Row]:
    chosen = [s for s in scenarios() if not options.only or s.name in options.only]
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as folder, contextlib.ExitStack() as stack:
        work = Path(folder)
        started = {"oipserve": _start(stack, options, tuned=True)}
        sizes = _capture(chosen, started["oipserve"], work)
        referenced = [s for s in chosen if s.name in REFERENCED]
        started.update(_start_floors(stack, work, options.server_core, bool(referenced)))
        _check_minimal(referenced, started, sizes)
        for scenario in chosen:
            with contextlib.ExitStack() as untuned:
                if options.malloc_compare and scenario.large:
                    # fresh for each scenario: glibc's dynamic thresholds remember past loads
                    started[UNTUNED] = _start(untuned, options, tuned=False)
                rows += _run_scenario(scenario, started, work, options, sizes)
                started.pop(UNTUNED, None)
    return rows


def _run_scenario(
    scenario: Scenario,
    started: dict[str, Started],
    work: Path,
    options: argparse.Namespace,
    sizes: dict[str, int],
) -> list[Row]:
    """Each round measures every server in turn (so that the machine's changes of speed
    over minutes fall on all of them alike); each server's row is its median round."""
    targets = _targets(scenario, started)
    loads = []
    for target in targets:
        sent = target.sent or scenario
        body, size = work / f"{sent.name}.body", sizes.get(sent.name, 0)
        alone = None  # a pipeline's latency is also taken one request at a time
        if scenario.step and not target.floor:
            alone = Load(replace(sent, connections=1), target.url, body, options.client_core)
        loads.append((Load(sent, target.url, body, options.client_core), alone, size))
    runs: list[list[Result]] = [[] for _ in targets]
    alone_runs: list[list[Result]] = [[] for _ in targets]
    for _ in range(options.rounds):
        for target, (load, alone, size), results, lone in zip(
            targets, loads, runs, alone_runs, strict=True
        ):
            load.run(options.warmup, target.pid, size)
            results.append(load.run(options.duration, target.pid, size))
            if alone is not None:
                lone.append(alone.run(options.duration, target.pid, size))
            line = f"  {scenario.name:15} {target.label:27} {results[-1].rps:9.1f} req/s"
            print(line, file=sys.stderr)
    return [
        Row(scenario.name, target.label, target.floor, _median(results), _alone(lone))
        for target, results, lone in zip(targets, runs, alone_runs, strict=True)
    ]


def _alone(runs: list[Result]) -> Result | None:
    return sorted(runs, key=lambda r: r.p50_ms)[len(runs) // 2] if runs else None


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per measurement")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of load before each")
    parser.add_argument(
        "--rounds", type=int, default=1, help="measurements per server, taken in turns (median)"
    )
    parser.add_argument("--only", nargs="*", default=[], help="scenarios to run (default all)")
    parser.add_argument("--server-core", type=int, default=0)
    parser.add_argument("--client-core", type=int, default=1)
    parser.add_argument(
        "--no-malloc-compare",
        dest="malloc_compare",
        action="store_false",
        help="skip the oipserve run with glibc's default malloc thresholds",
    )
    options = parser.parse_args()
    ensure_tools()
    os.sched_setaffinity(0, {options.client_core})
    print(table(run(options), options))


if __name__ == "__main__":
    main()
