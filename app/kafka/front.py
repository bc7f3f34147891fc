"""The Kafka front, a listener of the server (app.server): it reads the routed topics in one
consumer group, answers each record through the DataPlane, writes the answer (or the error)
and commits behind it.

At-least-once, in order of offsets: each partition's records start in order, at most
`max_in_flight` at once, taken in turn by as many workers (a partition with more records
waiting is paused), and the offset committed is that of the partition's first unfinished
record; a record is finished once its answer is acknowledged by the broker. When partitions
go to another member, or the server stops, what runs gets the grace period, what waits is
left to the next reader. Which topics are read follows loads and unloads (looked at every
FOLLOW_SECONDS).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener
from aiokafka.errors import KafkaError
from aiokafka.structs import OffsetAndMetadata, TopicPartition

from app.dataplane import DataPlane
from app.kafka.connection import client_options
from app.kafka.handler import Record, RecordHandler
from app.kafka.lanes import Lane
from app.kafka.routes import Routes, routes, serving
from app.kafka.sender import Sender
from app.kafka.settings import KafkaSettings
from app.kafka.topics import Topics
from app.monitor import TopicGauges

log = logging.getLogger("oipserve.kafka")
FOLLOW_SECONDS = 0.5
"""How often the front looks for servables loaded or unloaded."""


class KafkaFront:
    """Answers Seldon's Kafka topics for the servables of `dataplane`."""

    port = 0

    def __init__(self, dataplane: DataPlane, settings: KafkaSettings) -> None:
        self.dataplane = dataplane
        self.settings = settings
        self.topics = Topics(settings.topic_prefix, settings.namespace)
        self.announce = (
            f"Kafka: reading {self.topics.base}.* from {settings.bootstrap} "
            f"as group {settings.group}"
        )
        self.gauges = TopicGauges()
        self.routes: Routes = {}
        """The topics read, and where their records go."""
        self._handler = RecordHandler(dataplane, self.topics, settings.step_topics)
        self._lanes: dict[TopicPartition, Lane[Record]] = {}
        self._running: dict[TopicPartition, set[asyncio.Task[None]]] = {}
        """Each partition's worker tasks, waited for (or cancelled) when it is released; how
        many are working is the lane's count (a done task may not have left this set yet)."""
        self._paused: set[TopicPartition] = set()
        """The partitions paused while more records wait in their lanes than workers take."""
        self._stopping = asyncio.Event()
        self._grace = 0.0
        self._task: asyncio.Task[None] | None = None
        self._followed = 0.0

    def bind(self) -> None:
        client_options(self.settings)  # ValueError for settings that cannot connect

    async def start(self) -> int:
        options = client_options(self.settings)
        self._producer = AIOKafkaProducer(
            **options, acks="all", linger_ms=1, max_batch_size=self.settings.batch_bytes
        )
        self._sender = Sender(self._producer, self._handler)
        self._consumer = AIOKafkaConsumer(
            **options,
            group_id=self.settings.group,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            session_timeout_ms=self.settings.session_timeout_ms,
            heartbeat_interval_ms=max(100, self.settings.session_timeout_ms // 4),
            fetch_max_wait_ms=100,
        )
        aiokafka = logging.getLogger("aiokafka")
        level = aiokafka.level
        aiokafka.setLevel(logging.CRITICAL)  # its connection errors: ours names them
        try:
            await self._producer.start()
            await self._consumer.start()
        except KafkaError as error:
            await self._close_clients()
            raise OSError(
                f"cannot reach the Kafka brokers at {self.settings.bootstrap}: {error}"
            ) from None
        finally:
            aiokafka.setLevel(level)
        self.dataplane.monitor.kafka = self.gauges
        self._task = asyncio.create_task(self._run())
        return self.port

    def close(self, grace: float) -> None:
        """Stop fetching now; what runs gets `grace` seconds."""
        if not self._stopping.is_set():
            self._grace = grace
            self._stopping.set()

    async def wait(self) -> None:
        if self._task is not None:
            await self._task

    async def _run(self) -> None:
        """Fetch, start, commit, until stopped; then let what runs finish and commit."""
        try:
            while not self._stopping.is_set():
                try:
                    if self._follow():
                        await self._fetch()
                    else:
                        await self._pause(FOLLOW_SECONDS)
                except KafkaError as error:  # the clients reconnect on their own
                    log.warning("Kafka: %s; trying again", error)
                    await self._pause(1.0)
            await self._release(list(self._lanes), self._grace)
        except Exception:
            log.exception("Kafka: the front stopped")
            raise
        finally:
            await self._close_clients()
            self.dataplane.monitor.kafka = None

    async def _fetch(self) -> None:
        batches = await self._consumer.getmany(timeout_ms=100)
        for partition, records in batches.items():
            self._take(partition, records)
        await self._commit(self._lanes)
        self._measure_lag()

    async def _pause(self, seconds: float) -> None:
        """Wait `seconds`, or less if the front stops meanwhile."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)

    def _follow(self) -> bool:
        """Read the topics of what serves now (if they changed); whether any are read."""
        loop = asyncio.get_running_loop()
        if loop.time() < self._followed:
            return bool(self.routes)
        self._followed = loop.time() + FOLLOW_SECONDS
        found = routes(serving(self.dataplane), self.topics)
        if found.keys() != self.routes.keys():
            assigned = self._consumer.assignment()
            for partition in [p for p in self._lanes if p not in assigned]:
                if not self._lanes[partition].busy:  # given up: read afresh if it comes back
                    self._forget(partition)
            if found:
                self._consumer.subscribe(sorted(found), listener=_Rebalance(self))
                log.info("Kafka: reading %s", ", ".join(sorted(found)))
            else:
                self._consumer.unsubscribe()
        self.routes = found
        return bool(found)

    def _take(self, partition: TopicPartition, records: list[Record]) -> None:
        lane = self._lanes.get(partition)
        if lane is None:
            lane = self._lanes[partition] = Lane(self.settings.max_in_flight)
            self._running[partition] = set()
        for record in records:
            lane.add(record)
        self._start(partition, lane)

    def _start(self, partition: TopicPartition, lane: Lane[Record]) -> None:
        """Start workers for the waiting records, up to the lane's limit; pause the partition
        while more records wait than the workers take at once."""
        workers = self._running[partition]
        for _ in range(lane.hire()):
            task = asyncio.create_task(self._work(partition, lane))
            workers.add(task)
            task.add_done_callback(workers.discard)
        if len(lane.waiting) > lane.limit and partition not in self._paused:
            self._consumer.pause(partition)
            self._paused.add(partition)

    async def _work(self, partition: TopicPartition, lane: Lane[Record]) -> None:
        """Answer the lane's records, one after another, while some wait; then resume the
        partition if it was paused."""
        while not self._stopping.is_set() and (record := lane.take()) is not None:
            self.gauges.inflight += 1
            try:
                await self._answer(record)
            except Exception as error:  # not answered: its offset is never committed past
                log.error(
                    "Kafka: %s offset %d not answered (it will be read again): %s",
                    record.topic,
                    record.offset,
                    error,
                )
            else:
                lane.finish(record.offset)
            finally:
                self.gauges.inflight -= 1
        if partition in self._paused and self._lanes.get(partition) is lane:
            self._consumer.resume(partition)
            self._paused.discard(partition)

    async def _answer(self, record: Record) -> None:
        """Answer a record by each of its topic's routes; send the answers (and the steps'
        answers) and wait for the broker to have them."""
        found = self.routes.get(record.topic) or self._handler.fallback(record.topic)
        if not found:
            log.warning(
                "Kafka: %s offset %d skipped: no pipeline reads the topic any more",
                record.topic,
                record.offset,
            )
        for route in found:  # one, but for a pipeline's answers that feed several others
            await self._sender.deliver(await self._handler.answer(record, route))

    async def _commit(self, partitions: Iterable[TopicPartition]) -> None:
        """Commit each partition's position where it moved."""
        positions = {}
        assigned = self._consumer.assignment()
        for partition in partitions:
            lane = self._lanes.get(partition) if partition in assigned else None
            position = lane.to_commit() if lane is not None else None
            if position is not None:
                positions[partition] = position
        if not positions:
            return
        try:
            await self._consumer.commit(
                {tp: OffsetAndMetadata(offset, "") for tp, offset in positions.items()}
            )
        except KafkaError as error:
            log.warning("Kafka: commit failed (it is tried again): %s", error)
            return
        for partition, offset in positions.items():
            self._lanes[partition].committed = offset

    async def _release(self, partitions: list[TopicPartition], grace: float) -> None:
        """Let what runs in `partitions` finish (within `grace` s), commit, forget them."""
        for partition in partitions:
            if partition in self._lanes:
                self._lanes[partition].close()
        running = [task for p in partitions for task in self._running.get(p, ())]
        if running:
            _, late = await asyncio.wait(running, timeout=grace)
            for task in late:
                task.cancel()
            if late:
                log.warning("Kafka: %d records did not finish; they will be read again", len(late))
        await self._commit(partitions)
        for partition in partitions:
            self._forget(partition)

    def _forget(self, partition: TopicPartition) -> None:
        self._lanes.pop(partition, None)
        self._running.pop(partition, None)
        self._paused.discard(partition)

    def _measure_lag(self) -> None:
        lag: dict[str, int] = {}
        assigned = self._consumer.assignment()
        for partition, lane in self._lanes.items():
            if partition not in assigned:
                continue
            end = self._consumer.highwater(partition)
            position = lane.position()
            if end is not None and position is not None:
                lag[partition.topic] = lag.get(partition.topic, 0) + max(0, end - position)
        self.gauges.lag = lag

    async def _close_clients(self) -> None:
        for client in (getattr(self, "_consumer", None), getattr(self, "_producer", None)):
            if client is not None:
                with contextlib.suppress(KafkaError):
                    await client.stop()


class _Rebalance(ConsumerRebalanceListener):  # type: ignore[misc]  # aiokafka is untyped here
    """Before partitions go to another member: finish and commit what they run."""

    def __init__(self, front: KafkaFront) -> None:
        self.front = front

    async def on_partitions_revoked(self, revoked: list[TopicPartition]) -> None:
        timeout = self.front.settings.session_timeout_ms / 2000
        await self.front._release(list(revoked), timeout)

    async def on_partitions_assigned(self, assigned: list[TopicPartition]) -> None:
        return None
