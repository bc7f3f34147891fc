"""Writing the records that answer a request: each acknowledged by the brokers before the
request counts as answered, written again a few times on the brokers' errors; an answer the
brokers refuse for its size goes to the errors topic instead."""

from __future__ import annotations

import asyncio
import logging

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError, MessageSizeTooLargeError

from app.kafka.handler import RecordHandler
from app.kafka.records import Outgoing

log = logging.getLogger("oipserve.kafka")
TRIES = 5
"""Writes of one record before it is given up (and its request left to be read again)."""


class Sender:
    """Writes records with `producer`; `handler` makes the error record of an answer too
    large."""

    def __init__(self, producer: AIOKafkaProducer, handler: RecordHandler) -> None:
        self.producer = producer
        self.handler = handler

    async def deliver(self, records: list[Outgoing]) -> None:
        """Write the records: the steps' answers, then the answer (or its error)."""
        *steps, answer = records
        if steps:
            await asyncio.gather(*(self.produce(step) for step in steps))
        try:
            await self.produce(answer)
        except MessageSizeTooLargeError as error:
            await self.produce(self.handler.too_large(answer, error))

    async def produce(self, record: Outgoing) -> None:
        """Write one record and wait for the brokers to acknowledge it."""
        for attempt in range(TRIES):
            try:
                await self.producer.send_and_wait(
                    record.topic, record.value, key=record.key, headers=record.headers
                )
                return
            except MessageSizeTooLargeError:
                raise
            except KafkaError as error:
                if attempt == TRIES - 1:
                    log.error("Kafka: cannot write to %s: %s", record.topic, error)
                    raise
                await asyncio.sleep(0.1 * 2**attempt)
