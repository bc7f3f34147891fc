"""Large tensors into a GPU model: ResNet-50 on batches of 32 FP32 images (3x224x224, 19 MB
a request), a bare loop in one process (numpy -> GPU -> model -> numpy) against oipserve over
REST with the binary extension and over gRPC with raw contents, sent by the project's client
from 1 and 4 processes. It skips itself (one line, exit 0) without PyTorch, torchvision and a
CUDA device:

    python -m bench.gpu [--seconds 20] [--batch 32] [--clients 1 4]
                        [--server-cores 0-3] [--client-cores 4-15]

For each run: images per second, its ratio to the bare loop (target >= 0.8), and where the
server's time per request went, from its statistics extension: taking the input in (reading
and decoding the body up to the predictor), the predictor, and writing the answer.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing
import os
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from bench.servers import ROOT, free_port, running, wait_ready

GPU_MODELS = ROOT / "bench" / "gpu_models"
MODEL = "resnet50"
TARGET = 0.8
PROTOCOLS = ("rest", "grpc")


@dataclass(frozen=True)
class Figures:
    name: str
    images_per_s: float
    input_ms: float = 0.0
    infer_ms: float = 0.0
    output_ms: float = 0.0
    """Per request, from the server's statistics: arrival to the predictor, the predictor,
    its end to the answer written."""


def cuda_missing() -> str | None:
    """Why the scenario cannot run here (None: it can)."""
    try:
        import torch
        import torchvision  # noqa: F401  # the model's
    except ImportError as error:
        return f"{error.name} is not installed"
    if not torch.cuda.is_available():
        return "no CUDA device"
    return None


def images(batch: int) -> np.ndarray:
    """A batch of random FP32 images, 3x224x224 each."""
    return np.random.default_rng(7).random((batch, 3, 224, 224), dtype=np.float32)


def bare_loop(batch: int, seconds: float) -> Figures:
    """Images per second of the model called in a loop in this process."""
    sys.path.insert(0, str(GPU_MODELS / MODEL))
    from resnet50 import resnet50, run  # type: ignore[import-not-found]  # the model's folder

    model, data = resnet50(), images(batch)
    for _ in range(3):
        run(model, data)
    done, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        run(model, data)
        done += batch
    figures = Figures("bare loop", done / (time.perf_counter() - started))
    del model
    import torch

    torch.cuda.empty_cache()
    return figures


def _send(url: str, model: str, data: np.ndarray, seconds: float, counts: Any) -> None:
    """One client process: requests of `data` to `model` one after another for `seconds`;
    puts how many images were answered."""
    from app import InferenceClientFactory, InferInput, InferRequest

    async def loop() -> int:
        async with InferenceClientFactory.get_inference_client(url) as client:
            tensor = InferInput("input-0", list(data.shape), "FP32")
            tensor.set_data_from_numpy(data)  # binary over REST, raw contents over gRPC
            request = InferRequest(model, [tensor])
            await client.infer(request)  # connected and warm before the clock starts
            done, started = 0, time.perf_counter()
            while time.perf_counter() - started < seconds:
                await client.infer(request)
                done += len(data)
            return done

    counts.put(asyncio.run(loop()))


def _pin(cores: str) -> None:
    """This process on the cores `cores` names ("4-15", "0,2"), where the system allows."""
    chosen: set[int] = set()
    for part in cores.split(","):
        first, _, last = part.partition("-")
        chosen.update(range(int(first), int(last or first) + 1))
    with contextlib.suppress(OSError):
        os.sched_setaffinity(0, chosen & os.sched_getaffinity(0) or os.sched_getaffinity(0))


def _spawned(
    cores: str, url: str, model: str, data: np.ndarray, seconds: float, counts: Any
) -> None:
    """A client process on `cores`, sending as `_send` does."""
    _pin(cores)
    _send(url, model, data, seconds, counts)


def _statistics(http_port: int, model: str) -> dict[str, int]:
    """The model's request count and nanoseconds of each stage so far."""
    url = f"http://127.0.0.1:{http_port}/v2/models/{model}/stats"
    with urllib.request.urlopen(url, timeout=10) as answer:
        stats = orjson.loads(answer.read())["model_stats"][0]["inference_stats"]
    found = {"count": stats["success"]["count"]}
    for stage in ("compute_input", "compute_infer", "compute_output"):
        found[stage] = stats[stage]["ns"]
    return found


@contextlib.contextmanager
def serving(repository: Path, cores: str) -> Iterator[tuple[int, int]]:
    """oipserve over `repository`, pinned to `cores`, until the block ends; its ports."""
    http, grpc = free_port(), free_port()
    command = [sys.executable, "-m", "app", "serve", str(repository), "--host", "127.0.0.1"]
    command += ["--http-port", str(http), "--grpc-port", str(grpc), "--log-level", "warning"]
    with running(command, cores, [http, grpc]):
        wait_ready(http)
        yield http, grpc


def served(
    ports: tuple[int, int],
    model: str,
    data: np.ndarray,
    protocol: str,
    clients: int,
    seconds: float,
    client_cores: str,
) -> Figures:
    """Images per second through the server on `ports` from `clients` processes, and where
    its time per request went."""
    http, grpc = ports
    url = f"http://127.0.0.1:{http}" if protocol == "rest" else f"grpc://127.0.0.1:{grpc}"
    spawn = multiprocessing.get_context("spawn")  # no CUDA state inherited
    counts = spawn.Queue()
    before = _statistics(http, model)
    processes = [
        spawn.Process(target=_spawned, args=(client_cores, url, model, data, seconds, counts))
        for _ in range(clients)
    ]
    started = time.perf_counter()
    for process in processes:
        process.start()
    done = sum(counts.get(timeout=seconds + 120) for _ in processes)
    for process in processes:
        process.join()
    elapsed = time.perf_counter() - started
    after = _statistics(http, model)
    requests = max(1, after["count"] - before["count"])
    per_request = {
        stage: (after[stage] - before[stage]) / requests / 1e6
        for stage in ("compute_input", "compute_infer", "compute_output")
    }
    return Figures(
        f"{protocol}, {clients} client{'s' if clients > 1 else ''}",
        done / elapsed,
        per_request["compute_input"],
        per_request["compute_infer"],
        per_request["compute_output"],
    )


def report(floor: Figures, runs: list[Figures]) -> str:
    columns = ("images/s", "ratio", "input ms", "infer ms", "output ms")
    lines = [f"{'':20} " + " ".join(f"{column:>9}" for column in columns)]
    lines.append(f"{floor.name:20} {floor.images_per_s:9.0f}")
    for figures in runs:
        lines.append(
            f"{figures.name:20} {figures.images_per_s:9.0f} "
            f"{figures.images_per_s / floor.images_per_s:9.2f} {figures.input_ms:9.1f} "
            f"{figures.infer_ms:9.1f} {figures.output_ms:9.1f}"
        )
    lines.append(f"gpu: target >= {TARGET} of the bare loop's images/s, REST binary and gRPC alike")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 4])
    parser.add_argument("--server-cores", default="0-3")
    parser.add_argument("--client-cores", default="4-15")
    options = parser.parse_args()
    why = cuda_missing()
    if why is not None:
        print(f"gpu: skipped ({why})")
        return
    floor = bare_loop(options.batch, options.seconds)
    data = images(options.batch)
    runs = []
    with serving(GPU_MODELS, options.server_cores) as ports:
        for protocol in PROTOCOLS:
            for clients in options.clients:
                runs.append(
                    served(
                        ports,
                        MODEL,
                        data,
                        protocol,
                        clients,
                        options.seconds,
                        options.client_cores,
                    )
                )
    print(report(floor, runs))


if __name__ == "__main__":
    main()
