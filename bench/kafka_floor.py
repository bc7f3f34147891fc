"""The Kafka floor: the least a Kafka front must do, in a bare aiokafka loop. In a consumer
group it reads records from one topic, writes for each a record with the same key and a fixed
answer to another (writing with the producer settings of oipserve's front), and commits once
the broker has acknowledged the batch's answers.

    python -m bench.kafka_floor BOOTSTRAP INPUTS OUTPUTS ANSWER_FILE

It runs until SIGTERM.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from app.kafka.settings import BATCH_BYTES


async def serve(bootstrap: str, inputs: str, outputs: str, answer: bytes) -> None:
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", linger_ms=1, max_batch_size=BATCH_BYTES
    )
    consumer = AIOKafkaConsumer(
        inputs,
        bootstrap_servers=bootstrap,
        group_id="bench-floor",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        session_timeout_ms=2000,
        heartbeat_interval_ms=500,
        fetch_max_wait_ms=100,
    )
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await producer.start()
    await consumer.start()
    try:
        while not stop.is_set():
            batches = await consumer.getmany(timeout_ms=100)
            sent = [
                await producer.send(outputs, answer, key=record.key, headers=record.headers)
                for records in batches.values()
                for record in records
            ]
            if sent:
                await asyncio.gather(*sent)
                await consumer.commit()
    finally:
        await consumer.stop()
        await producer.stop()


if __name__ == "__main__":
    bootstrap, inputs, outputs, answer_file = sys.argv[1:5]
    asyncio.run(serve(bootstrap, inputs, outputs, Path(answer_file).read_bytes()))
