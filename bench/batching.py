"""Adaptive batching under load: 64 REST clients against `serial` (one call at a time, 2 ms a
call) and against `serial-batched` (the same model, max_batch_size 64, max_batch_time 2 ms),
on one oipserve, server and load generator on separate cores:

    python -m bench.batching [--duration S] [--connections N]

It prints req/s and latency of each, the throughput ratio (target >= 5x), and the batched
p99 against max_batch_time + one call + 20%.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import orjson

from bench.measure import Load, Result
from bench.payloads import ROW, Scenario, json_request
from bench.servers import MODELS, free_port, oipserve_command, running, wait_ready

PLAIN, BATCHED = "serial", "serial-batched"


def _settings(model: str) -> dict[str, float]:
    content = orjson.loads((MODELS / model / "model-settings.json").read_bytes())
    return {
        "call": float(content["parameters"]["call_seconds"]),
        "wait": float(content.get("max_batch_time", 0.0)),
    }


def measure(
    seconds: float, connections: int, server_core: int, client_core: int
) -> dict[str, Result]:
    """Each model's figures under `connections` clients for `seconds`, after a warm-up."""
    http, grpc = free_port(), free_port()
    found = {}
    with (
        tempfile.TemporaryDirectory() as folder,
        running(oipserve_command(http, grpc), server_core, [http, grpc]) as pid,
    ):
        wait_ready(http)
        body = Path(folder) / "body"
        body.write_bytes(json_request(ROW))
        for model in (PLAIN, BATCHED):
            scenario = Scenario(
                f"rest-{model}",
                "rest",
                model,
                connections,
                body.read_bytes(),
                {"Content-Type": "application/json"},
            )
            load = Load(scenario, f"http://127.0.0.1:{http}{scenario.path}", body, client_core)
            load.run(min(seconds, 2.0), pid, 0)  # warm-up
            found[model] = load.run(seconds, pid, 0)
    return found


def report(found: dict[str, Result]) -> str:
    plain, batched = found[PLAIN], found[BATCHED]
    timing = _settings(BATCHED)
    bound_ms = (timing["wait"] + timing["call"]) * 1000 * 1.2
    ratio = batched.rps / plain.rps if plain.rps else 0.0
    lines = [
        f"{model}: {result.rps:,.0f} req/s, p50 {result.p50_ms:.2f} ms, "
        f"p99 {result.p99_ms:.2f} ms, {result.errors} errors"
        for model, result in found.items()
    ]
    lines.append(
        f"batching: {ratio:.1f}x the throughput (target >= 5x); p99 {batched.p99_ms:.2f} "
        f"ms against max_batch_time + one call + 20% = {bound_ms:.2f} ms"
    )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--server-core", type=int, default=0)
    parser.add_argument("--client-core", type=int, default=1)
    options = parser.parse_args()
    found = measure(options.duration, options.connections, options.server_core, options.client_core)
    print(report(found))


if __name__ == "__main__":
    main()
