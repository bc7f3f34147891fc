"""The benchmark: oipserve and the bare floors side by side, one table.

    python -m bench [--duration 10] [--warmup 2] [--rounds 1] [--only rest-small ...]

Servers run pinned to one core (`--server-core`, default 0), the load generators (wrk for
REST, h2load for gRPC) to another (`--client-core`, default 1).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import orjson

from bench import servers
from bench.measure import Load, Result
from bench.payloads import Scenario, scenarios
from bench.report import Row, table

TOOLS = {"wrk": "wrk", "h2load": "nghttp2-client", "taskset": "util-linux"}


def ensure_tools() -> None:
    """Install the Debian packages of missing load generators (as root), else say which."""
    missing = sorted({package for tool, package in TOOLS.items() if not shutil.which(tool)})
    if not missing:
        return
    if os.geteuid() == 0 and shutil.which("apt-get"):
        subprocess.run(["apt-get", "install", "-y", "-q", *missing], check=False)
        if all(shutil.which(tool) for tool in TOOLS):
            return
        subprocess.run(["apt-get", "update", "-q"], check=True)
        subprocess.run(["apt-get", "install", "-y", "-q", *missing], check=True)
        return
    sys.exit(f"bench needs {', '.join(missing)}: sudo apt-get install -y {' '.join(missing)}")


@dataclass(frozen=True)
class Target:
    """A server under one scenario's load: its label, pid and URL."""

    label: str
    pid: int
    url: str
    answer_size: int
    floor: bool


def _targets(
    scenario: Scenario, ports: dict[str, int], pids: dict[str, int], answer_sizes: dict[str, int]
) -> list[Target]:
    def url(server: str, path: str) -> str:
        return f"http://127.0.0.1:{ports[server]}{path}"

    size = answer_sizes.get(scenario.name, 0)
    if scenario.transport == "grpc":
        return [
            Target(
                "grpc.aio floor", pids["grpc-floor"], url("grpc-floor", scenario.path), size, True
            ),
            Target("oipserve", pids["oipserve"], url("oipserve-grpc", scenario.path), size, False),
        ]
    floors = [
        Target("uvicorn floor", pids["rest-floor"], url("rest-floor", f"/{scenario.name}"), 0, True)
    ]
    if scenario.name == "rest-large":
        floors.append(
            Target("orjson+numpy floor", pids["rest-floor"], url("rest-floor", "/parse"), 0, True)
        )
    return [
        *floors,
        Target("oipserve", pids["oipserve"], url("oipserve-http", scenario.path), 0, False),
    ]


def _measure(target: Target, scenario: Scenario, body: Path, options: argparse.Namespace) -> Result:
    load = Load(scenario, target.url, body, options.client_core)
    runs = []
    for _ in range(options.rounds):
        load.run(options.warmup, target.pid, target.answer_size)
        runs.append(load.run(options.duration, target.pid, target.answer_size))
    return sorted(runs, key=lambda r: r.rps)[len(runs) // 2]


def _capture(chosen: list[Scenario], ports: dict[str, int], work: Path) -> dict[str, int]:
    """Save each request body and oipserve's answer; write the floors' answer files. Returns
    the size of each gRPC answer (how h2load's output tells errors)."""
    rest_answers: dict[str, dict[str, object]] = {}
    grpc_answers: dict[str, str] = {}
    sizes: dict[str, int] = {}
    for scenario in chosen:
        (work / f"{scenario.name}.body").write_bytes(scenario.body)
        answer_file = work / f"{scenario.name}.answer"
        if scenario.transport == "rest":
            body, headers = servers.capture_rest(ports["oipserve-http"], scenario)
            rest_answers[f"/{scenario.name}"] = {"headers": headers, "body": str(answer_file)}
        else:
            body = servers.capture_grpc(ports["oipserve-grpc"], scenario)
            grpc_answers[scenario.model] = str(answer_file)
            sizes[scenario.name] = len(body)
        answer_file.write_bytes(body)
    (work / "rest-answers.json").write_bytes(orjson.dumps(rest_answers))
    (work / "grpc-answers.json").write_bytes(orjson.dumps(grpc_answers))
    return sizes


def run(options: argparse.Namespace) -> list[Row]:
    chosen = [s for s in scenarios() if not options.only or s.name in options.only]
    ports = {
        name: servers.free_port()
        for name in ("oipserve-http", "oipserve-grpc", "rest-floor", "grpc-floor")
    }
    core = options.server_core
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as folder, contextlib.ExitStack() as stack:
        work = Path(folder)
        command = servers.oipserve_command(ports["oipserve-http"], ports["oipserve-grpc"])
        pids = {
            "oipserve": stack.enter_context(
                servers.running(command, core, [ports["oipserve-http"]], "oipserve")
            )
        }
        servers.wait_ready(ports["oipserve-http"])
        sizes = _capture(chosen, ports, work)
        python = [sys.executable, "-m"]
        for name, module in (
            ("rest-floor", "bench.floor_rest"),
            ("grpc-floor", "bench.floor_grpc"),
        ):
            answers = work / f"{name.split('-')[0]}-answers.json"
            floor = servers.running(
                [*python, module, str(ports[name]), str(answers)], core, [ports[name]], name
            )
            pids[name] = stack.enter_context(floor)
        for scenario in chosen:
            for target in _targets(scenario, ports, pids, sizes):
                result = _measure(target, scenario, work / f"{scenario.name}.body", options)
                rows.append(Row(scenario.name, target.label, target.floor, result))
                print(
                    f"  {scenario.name:15} {target.label:20} {result.rps:10.1f} req/s",
                    file=sys.stderr,
                )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per measurement")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of load before each")
    parser.add_argument("--rounds", type=int, default=1, help="measurements per server (median)")
    parser.add_argument("--only", nargs="*", default=[], help="scenarios to run (default all)")
    parser.add_argument("--server-core", type=int, default=0)
    parser.add_argument("--client-core", type=int, default=1)
    options = parser.parse_args()
    ensure_tools()
    os.sched_setaffinity(0, {options.client_core})
    print(table(run(options), options))


if __name__ == "__main__":
    main()
