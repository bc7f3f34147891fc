"""Worker processes: rest-small and grpc-small against oipserve with `--workers N` for each N,
the server on its own cores and the load generator on others:

    python -m bench.workers [--workers 1 2] [--server-cores 0] [--client-cores 1] [--threads 1]

It prints req/s for each N and its ratio to N times one worker's (target >= 0.85), and the
peak memory of the N workers against N times one's. On a machine with 16 cores:
`--workers 1 2 4 8 --server-cores 0-7 --client-cores 8-15 --threads 8`. With two cores there is
one for the server and one for the load: N workers then share one core, and the figures say
only that workers cost little, not that they scale.
"""

from __future__ import annotations

import argparse
import re
import tempfile
import time
from pathlib import Path

from bench.measure import Load
from bench.payloads import scenario
from bench.servers import capture_grpc, free_port, oipserve_command, running, wait_ready

SCENARIOS = ("rest-small", "grpc-small")


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(child) for child in (task / "children").read_text().split()]
    return found


def _peak_rss_mb(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        status = Path(f"/proc/{pid}/status").read_text()
        match = re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE)
        total += int(match.group(1)) / 1024 if match else 0.0
    return total


def measure(
    counts: list[int], seconds: float, server_cores: str, client_cores: str, threads: int
) -> dict[int, dict[str, float]]:
    """For each number of workers: req/s of each scenario, and the workers' peak RSS (MB)."""
    found: dict[int, dict[str, float]] = {}
    for count in counts:
        http, grpc = free_port(), free_port()
        command = [*oipserve_command(http, grpc), "--workers", str(count)]
        with (
            tempfile.TemporaryDirectory() as folder,
            running(command, server_cores, [http, grpc]) as pid,
        ):
            wait_ready(http)
            time.sleep(1.0 + 0.5 * count)  # every worker loads its models
            figures: dict[str, float] = {}
            for name in SCENARIOS:
                chosen = scenario(name)
                body = Path(folder) / f"{name}.body"
                body.write_bytes(chosen.body)
                base = f"http://127.0.0.1:{grpc if chosen.transport == 'grpc' else http}"
                load = Load(chosen, base + chosen.path, body, client_cores, threads)
                load.run(min(seconds, 2.0), pid, 0)  # warm-up
                size = len(capture_grpc(base, chosen)) if chosen.transport == "grpc" else 0
                figures[name] = load.run(seconds, pid, size).rps
            workers = _children(pid) if count > 1 else [pid]
            figures["rss_mb"] = _peak_rss_mb(workers)
        found[count] = figures
    return found


def report(found: dict[int, dict[str, float]]) -> str:
    one = found[min(found)]
    lines = []
    for count, figures in found.items():
        parts = [
            f"{name} {figures[name]:,.0f} req/s ({figures[name] / (count * one[name]):.2f} of "
            f"{count} x one)"
            for name in SCENARIOS
        ]
        memory = figures["rss_mb"] / (count * one["rss_mb"])
        parts.append(f"peak RSS {figures['rss_mb']:.0f} MB ({memory:.2f} of {count} x one)")
        lines.append(f"{count} worker{'s' if count > 1 else ''}: " + ", ".join(parts))
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--server-cores", default="0")
    parser.add_argument("--client-cores", default="1")
    parser.add_argument("--threads", type=int, default=1)
    options = parser.parse_args()
    found = measure(
        options.workers,
        options.duration,
        options.server_cores,
        options.client_cores,
        options.threads,
    )
    print(report(found))


if __name__ == "__main__":
    main()
