"""How records flow through the front: at most --kafka-max-in-flight of a partition at once,
and on stop what runs finishes and is committed while what waits is left, unanswered and
uncommitted, to the next server."""

from __future__ import annotations

import asyncio
from pathlib import Path

import orjson
import pytest
from aiokafka import AIOKafkaConsumer
from aiokafka.structs import TopicPartition

from app.server import Server
from tests.kafka.broker import Reader, create_topics, producer, serving
from tests.repo import add_model

INPUTS = "seldon.default.model.slow.inputs"
OUTPUTS = "seldon.default.model.slow.outputs"
REQUEST = orjson.dumps({"inputs": [{"name": "x", "datatype": "INT32", "shape": [1], "data": [1]}]})


@pytest.fixture
def slow_repository(tmp_path: Path) -> Path:
    repository = tmp_path / "models"
    add_model(repository, "slow", "tests.toys:Slow", parameters={"seconds": 0.3})
    return repository


def _server(repository: Path, broker: str) -> Server:
    return serving(repository, broker, max_in_flight=2)


@pytest.fixture
async def topics(broker: str) -> None:
    await create_topics(broker, INPUTS, OUTPUTS)  # one partition: one lane


async def _until_running(server: Server, count: int) -> None:
    """Until `count` requests are in flight."""
    for _ in range(1000):
        if len(server.dataplane.monitor.inflight) >= count:
            return
        await asyncio.sleep(0.01)
    raise TimeoutError(f"{count} requests never ran at once")


async def _committed(broker: str) -> int:
    consumer = AIOKafkaConsumer(bootstrap_servers=broker, group_id="oipserve-default")
    await consumer.start()
    try:
        return await consumer.committed(TopicPartition(INPUTS, 0)) or 0
    finally:
        await consumer.stop()


async def test_a_partition_runs_at_most_max_in_flight_records_at_once(
    slow_repository: Path, broker: str, topics: None
) -> None:
    server = _server(slow_repository, broker)
    await server.start()
    send = await producer(broker)
    try:
        async with Reader(broker, [OUTPUTS]) as reader:
            for index in range(6):
                await send.send(INPUTS, REQUEST, key=f"r{index}".encode())
            await send.flush()
            seen = []
            while len(reader.records) < 6:
                seen.append(len(server.dataplane.monitor.inflight))
                await asyncio.sleep(0.01)
        assert max(seen) == 2
    finally:
        await send.stop()
        await server.stop(grace=2)


async def test_a_stop_finishes_and_commits_what_runs_and_leaves_what_waits(
    slow_repository: Path, broker: str, topics: None
) -> None:
    server = _server(slow_repository, broker)
    await server.start()
    send = await producer(broker)
    async with Reader(broker, [OUTPUTS]) as reader:
        for index in range(3):
            await send.send(INPUTS, REQUEST, key=f"r{index}".encode())
        await send.flush()
        await _until_running(server, 2)
        await server.stop(grace=5)
        await reader.wait_keys({"r0", "r1"})
        assert await _committed(broker) == 2
        assert "r2" not in reader.records  # it waited: the next server answers it
        again = _server(slow_repository, broker)
        await again.start()
        try:
            await reader.wait("r2")
        finally:
            await again.stop(grace=2)
        assert await _committed(broker) == 3
    await send.stop()
