"""The bench table: one row per server and scenario, oipserve's ratio to the floor."""

from __future__ import annotations

import argparse
import platform
import subprocess
from dataclasses import dataclass

from bench.measure import Result
from bench.payloads import IMAGE, STEPS

TARGETS = {
    "rest-small": ">= 0.25 (CPU <= 120 us)",
    "grpc-small": ">= 0.80",
    "rest-large": ">= 0.9 of orjson+numpy",
    "rest-large-bin": ">= 0.5",
    "grpc-large": ">= 0.85",
    "rest-pipeline-3": "step <= 50 us CPU, p50 <= 1.5x one step",
    "grpc-pipeline-3": "step <= 50 us CPU, p50 <= 1.5x one step",
}
LARGE = {"rest-large", "rest-large-bin", "grpc-large"}
PRIMARY_FLOOR = {"rest-large": "orjson+numpy floor"}
ONE_STEP = "oipserve, one step's model"
"""A pipeline scenario's request sent to the model of one of its steps instead."""
MINIMAL = "predict-only handler"
"""The server of bench.minimal_grpc: decode, predict, encode, and no more."""
SATURATED = 0.9
"""A server busier than this share of its core was the bottleneck of its run."""


@dataclass(frozen=True)
class Row:
    scenario: str
    server: str
    floor: bool
    result: Result
    alone: Result | None = None
    """For a pipeline scenario: the same requests one at a time (the latency a caller sees)."""


def _floors(row: Row, rows: list[Row]) -> list[Row]:
    """The floors of the row's scenario, the one its target names first."""
    floors = [r for r in rows if r.scenario == row.scenario and r.floor]
    primary = PRIMARY_FLOOR.get(row.scenario)
    return sorted(floors, key=lambda r: r.server != primary)


def busy(result: Result) -> float:
    """The share of one core the server used during the run (its CPU per request times the
    requests per second)."""
    return result.cpu_us * result.rps / 1e6


def _load_bound(floor: Result) -> bool:
    """Whether the floor had CPU to spare: the load generator held it back, so req/s over
    that floor flatters the row and the CPU ratio is the figure to read."""
    return busy(floor) < SATURATED


def _cpu_ratio(row: Row, rows: list[Row]) -> str:
    floor = _floors(row, rows)[0].result.cpu_us
    return f"{floor / row.result.cpu_us:.2f}" if row.result.cpu_us else ""


def _ratios(row: Row, rows: list[Row]) -> str:
    floors = _floors(row, rows)
    parts = [f"{row.result.rps / f.result.rps:.2f}" for f in floors if f.result.rps]
    if len(parts) > 1:
        parts[1:] = [f"({p} of {f.server})" for p, f in zip(parts[1:], floors[1:], strict=True)]
    if parts and _load_bound(floors[0].result):
        parts[0] += " (floor load-bound)"
    return " ".join(parts)


def _line(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def _version(command: list[str], words: int) -> str:
    """The first `words` words a tool prints of its version, or that it is missing."""
    try:
        printed = subprocess.run(command, capture_output=True, text=True).stdout
    except FileNotFoundError:
        return f"{command[0]} not found"
    return " ".join(printed.split()[:words])


def _tool_versions() -> str:
    return f"{_version(['wrk', '-v'], 2)}, {_version(['h2load', '--version'], 2)}"


def _minimal_note(rows: list[Row]) -> str:
    if not any(row.server == MINIMAL for row in rows):
        return ""
    return (
        f"{MINIMAL}: a bare grpc.aio handler that decodes the raw inputs, awaits the model's "
        "predict and answers raw outputs with the request id, with no checks, statistics, "
        "metrics or error handling (bench/minimal_grpc.py): the ceiling of a complete servicer's "
        "ratio.\n"
    )


def pipeline_figures(rows: list[Row]) -> str:
    """For each pipeline scenario: what a step costs beyond one model's request (the
    pipeline's CPU per request less the one step's, over the steps: its own fixed cost and
    the other steps' models counted in), and its p50 over the one step's, one request at a
    time (under load, p50 only follows the CPU)."""
    lines = []
    for one in (row for row in rows if row.server == ONE_STEP):
        pipeline = next(r for r in rows if r.scenario == one.scenario and r.server == "oipserve")
        step_us = (pipeline.result.cpu_us - one.result.cpu_us) / STEPS
        latency = ""
        if pipeline.alone and one.alone and one.alone.p50_ms:
            ratio = pipeline.alone.p50_ms / one.alone.p50_ms
            latency = (
                f"; one request at a time, p50 {pipeline.alone.p50_ms:.2f} ms against "
                f"{one.alone.p50_ms:.2f} ms, {ratio:.2f}x"
            )
        lines.append(
            f"{one.scenario}: a step costs {step_us:.0f} us of CPU beyond one model's request"
            f"{latency} ({TARGETS[one.scenario]}).\n"
        )
    return "".join(lines)


def table(rows: list[Row], options: argparse.Namespace) -> str:
    """A Markdown table of every measurement, with a line saying how it was made."""
    header = [
        "scenario",
        "server",
        "req/s",
        "p50 ms",
        "p99 ms",
        "errors",
        "CPU us/req",
        "MB/s",
        "peak RSS MB",
        "core busy",
        "ratio to floor",
        "CPU ratio",
        "target",
    ]
    lines = [_line(header), _line(["---"] * len(header))]
    for row in rows:
        result = row.result
        megabytes = IMAGE.nbytes * result.rps / 1e6 if row.scenario in LARGE else None
        lines.append(
            _line(
                [
                    row.scenario,
                    row.server,
                    f"{result.rps:,.0f}",
                    f"{result.p50_ms:.2f}",
                    f"{result.p99_ms:.2f}",
                    str(result.errors),
                    f"{result.cpu_us:.0f}",
                    f"{megabytes:.0f}" if megabytes is not None else "",
                    f"{result.rss_mb:.0f}",
                    f"{busy(result):.0%}",
                    "" if row.floor else _ratios(row, rows),
                    "" if row.floor else _cpu_ratio(row, rows),
                    TARGETS[row.scenario] if row.server == "oipserve" else "",
                ]
            )
        )
    made = (
        "ratio to floor: req/s over the floor's req/s (the target); CPU ratio: the floor's "
        "CPU us/req over ours (steadier on a busy machine); core busy: the server's share of "
        f"its core; a floor under {SATURATED:.0%} busy was held back by the load generator "
        "(load-bound), and only the CPU ratio compares fairly then.\n"
        f"{_minimal_note(rows)}"
        f"{pipeline_figures(rows)}"
        f"{options.duration:g} s per measurement after {options.warmup:g} s warm-up, "
        f"median of {options.rounds} rounds (each server in turn); servers on core "
        f"{options.server_core}, load on core "
        f"{options.client_core}; Python {platform.python_version()}; {_tool_versions()}"
    )
    return "\n".join([*lines, "", made])
