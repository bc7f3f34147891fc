"""Scale-out on the broker: server processes in one consumer group share the partitions of
a topic, each record answered by one of them; a member killed mid-stream, or a server
restarted mid-stream, loses no record (duplicates are allowed, and counted)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from aiokafka import AIOKafkaProducer

from tests.client.servers import free_port
from tests.kafka.broker import Reader, create_topics, producer
from tests.process import ServerProcess, running
from tests.repo import add_model

INPUTS = "seldon.default.model.pid.inputs"
OUTPUTS = "seldon.default.model.pid.outputs"
REQUEST = orjson.dumps({"inputs": [{"name": "x", "datatype": "INT32", "shape": [1], "data": [1]}]})
pytestmark = pytest.mark.slow


@pytest.fixture
def pid_repository(tmp_path: Path) -> Path:
    repository = tmp_path / "models"
    add_model(repository, "pid", "tests.toys:Pid")  # answers the id of its process
    return repository


@contextlib.contextmanager
def _server(repository: Path, broker: str, *more: str) -> Iterator[ServerProcess]:
    argv = [sys.executable, "-m", "app", "serve", str(repository), "--host", "127.0.0.1"]
    argv += ["--drain-seconds", "0", *more]
    argv += ["--kafka-bootstrap", broker, "--kafka-session-timeout-ms", "2000"]
    if "--workers" not in more:
        argv += ["--http-port", "0", "--grpc-port", "0"]
    with running(argv) as server:
        yield server


async def _stream(send: AIOKafkaProducer, keys: range, pause: float = 0.01) -> None:
    for index in keys:
        await send.send(INPUTS, REQUEST, key=f"r{index}".encode())
        await asyncio.sleep(pause)
    await send.flush()


def _answered_by(reader: Reader) -> Counter[int]:
    """How many answers each process gave."""
    pids = [
        orjson.loads(record.value)["outputs"][0]["data"][0]
        for records in reader.records.values()
        for record in records
    ]
    return Counter(pids)


def _duplicates(reader: Reader) -> int:
    return sum(len(records) - 1 for records in reader.records.values())


async def _answer_all(broker: str, count: int) -> Reader:
    """Send `count` requests; the reader of their answers, once all are answered."""
    send = await producer(broker)
    try:
        async with Reader(broker, [OUTPUTS]) as reader:
            await _stream(send, range(count))
            await reader.wait_keys({f"r{index}" for index in range(count)})
    finally:
        await send.stop()
    return reader


@pytest.fixture
async def topics(broker: str) -> None:
    await create_topics(broker, INPUTS, partitions=4)
    await create_topics(broker, OUTPUTS)


async def test_two_servers_in_one_group_share_four_partitions(
    pid_repository: Path, broker: str, topics: None
) -> None:
    with _server(pid_repository, broker) as first, _server(pid_repository, broker) as second:
        reader = await _answer_all(broker, 300)
    answered = _answered_by(reader)
    assert set(answered) == {first.process.pid, second.process.pid}, answered
    assert sum(answered.values()) == 300 + _duplicates(reader)


async def test_every_worker_of_a_server_reads_the_topics_in_its_group(
    pid_repository: Path, broker: str, topics: None
) -> None:
    ports = ["--http-port", str(free_port()), "--grpc-port", str(free_port())]
    with _server(pid_repository, broker, "--workers", "2", *ports) as server:
        reader = await _answer_all(broker, 300)
    answered = _answered_by(reader)
    assert len(answered) == 2, answered  # two workers
    assert server.process.pid not in answered  # the supervisor answers nothing


async def test_a_server_killed_mid_stream_loses_no_record(
    pid_repository: Path, broker: str, topics: None
) -> None:
    with _server(pid_repository, broker) as survivor, _server(pid_repository, broker) as victim:
        send = await producer(broker)
        async with Reader(broker, [OUTPUTS]) as reader:
            streaming = asyncio.create_task(_stream(send, range(400)))
            await reader.wait_for(
                lambda r: orjson.loads(r.value)["outputs"][0]["data"][0] == victim.process.pid
            )
            os.kill(victim.process.pid, signal.SIGKILL)
            await streaming
            await reader.wait_keys({f"r{index}" for index in range(400)})
        await send.stop()
    assert survivor.process.pid in _answered_by(reader)
    print(f"duplicates after the kill: {_duplicates(reader)}")


async def test_a_server_restarted_mid_stream_loses_no_record(
    pid_repository: Path, broker: str, topics: None
) -> None:
    send = await producer(broker)
    async with Reader(broker, [OUTPUTS]) as reader:
        streaming = asyncio.create_task(_stream(send, range(300)))
        with _server(pid_repository, broker) as first:
            await reader.wait_for(lambda record: True)
        assert first.process.returncode == 0, first.log  # SIGTERM: a clean stop
        assert "Kafka" in first.log
        with _server(pid_repository, broker):
            await streaming
            await reader.wait_keys({f"r{index}" for index in range(300)})
    await send.stop()
    print(f"duplicates after the restart: {_duplicates(reader)}")
