"""One measurement: a load generator pinned to its core against a server process, with the
server's CPU time and peak RSS read from /proc around the measured window."""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import orjson

from bench.payloads import Scenario

WRK_SCRIPT = Path(__file__).with_name("wrk.lua")
_TICK = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Result:
    """What one load run measured on one server."""

    requests: int
    seconds: float
    errors: int
    p50_ms: float
    p99_ms: float
    cpu_us: float  # server CPU (user + system, all threads) per request
    rss_mb: float  # the server's peak resident set (VmHWM) so far

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def cpu_seconds(pid: int) -> float:
    """utime + stime of every thread of process `pid` so far, in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICK


def peak_rss_mb(pid: int) -> float:
    """The peak resident set size of process `pid` (VmHWM), in MB."""
    status = Path(f"/proc/{pid}/status").read_text()
    match = re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE)
    return int(match.group(1)) / 1024 if match else 0.0


@dataclass(frozen=True)
class Load:
    """A load generator run: `url` + path under `scenario`'s load, on `core`."""

    scenario: Scenario
    url: str
    body_file: Path
    core: int | str
    """The core (or `taskset` core list) the load generator runs on."""
    threads: int = 1

    def command(self, seconds: float, log: Path) -> list[str]:
        pin = ["taskset", "-c", str(self.core)]
        concurrency = str(self.scenario.connections)
        if self.scenario.transport == "rest":
            return [
                *pin,
                *("wrk", f"-t{self.threads}", "-c", concurrency, "-d", f"{seconds:g}s"),
                "--latency",
                *("-s", str(WRK_SCRIPT), self.url),
            ]
        return [
            *pin,
            *("h2load", f"-t{self.threads}", f"-c{self.threads}"),
            *("-m", str(max(1, self.scenario.connections // self.threads))),
            *("-D", f"{seconds:g}"),
            *("--log-file", str(log), "-d", str(self.body_file)),
            *("-H", "content-type: application/grpc", "-H", "te: trailers", self.url),
        ]

    def run(self, seconds: float, server_pid: int, answer_size: int) -> Result:
        """Run the load for `seconds`; `answer_size` is the gRPC response body size that
        every successful call returns (error calls return trailers only)."""
        log = self.body_file.with_suffix(".log")
        headers = "\n".join(f"{k}: {v}" for k, v in self.scenario.headers.items())
        env = {**os.environ, "BENCH_BODY": str(self.body_file), "BENCH_HEADERS": headers}
        cpu_before = cpu_seconds(server_pid)
        done = subprocess.run(
            self.command(seconds, log), env=env, capture_output=True, text=True, check=True
        )
        cpu = cpu_seconds(server_pid) - cpu_before
        if self.scenario.transport == "rest":
            requests, elapsed, errors, p50, p99 = _wrk_figures(done.stdout)
        else:
            requests, elapsed, errors, p50, p99 = _h2load_figures(done.stdout, log, answer_size)
        return Result(
            requests=requests,
            seconds=elapsed,
            errors=errors,
            p50_ms=p50,
            p99_ms=p99,
            cpu_us=cpu * 1e6 / requests if requests else 0.0,
            rss_mb=peak_rss_mb(server_pid),
        )


Figures = tuple[int, float, int, float, float]


def _wrk_figures(output: str) -> Figures:
    line = next(line for line in output.splitlines() if line.startswith("BENCH "))
    found = orjson.loads(line.removeprefix("BENCH "))
    return (
        found["requests"],
        found["duration_us"] / 1e6,
        found["errors"],
        found["p50_us"] / 1e3,
        found["p99_us"] / 1e3,
    )


def _h2load_figures(output: str, log: Path, answer_size: int) -> Figures:
    """h2load counts HTTP/2 streams; a gRPC error is still HTTP 200, with grpc-status in the
    trailers and no message. So every call whose DATA bytes are missing counts as an error."""
    seconds = float(_search(r"finished in ([\d.]+)s", output))
    done = int(_search(r"requests: \d+ total, \d+ started, (\d+) done", output))
    failed = sum(
        int(n) for n in re.findall(r"(\d+) (?:failed|errored|timeout)", _line("requests:", output))
    )
    data = int(_search(r"\((\d+)\) data", _line("traffic:", output)))
    answered = data // (answer_size + 5)  # each message has a 5-byte gRPC frame prefix
    latencies = sorted(int(row.split("\t")[2]) for row in log.read_text().splitlines() if row)
    log.unlink()
    p50, p99 = (_percentile(latencies, q) / 1e3 for q in (0.50, 0.99))
    return done, seconds, failed + max(done - answered, 0), p50, p99


def _percentile(values: list[int], q: float) -> float:
    return float(values[min(len(values) - 1, int(q * len(values)))]) if values else 0.0


def _line(prefix: str, output: str) -> str:
    return next(line for line in output.splitlines() if line.startswith(prefix))


def _search(pattern: str, text: str) -> str:
    match = re.search(pattern, text)
    if match is None:
        raise RuntimeError(f"load generator output lacks {pattern!r}:\n{text}")
    return match.group(1)
