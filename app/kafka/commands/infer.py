"""`oipserve infer --kafka BOOTSTRAP MODEL --input NAME=SOURCE ...`: one inference through
Seldon's topics. The ends of the target's outputs topic and of the errors topic are read first
(every partition, no consumer group); then the request goes to the inputs topic (protobuf, key
and `x-request-id` the request id), and the first record of that key on either topic is the
answer, printed as over REST and gRPC, or the error."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.errors import UnknownTopicOrPartitionError
from aiokafka.structs import TopicPartition

from app.client.command import as_json, as_table, make_input
from app.client.tensors import InferRequest, InferResponse, RequestedOutput
from app.client.wire import answer_from, from_protocol, to_protocol
from app.context import REQUEST_ID
from app.grpc.convert import request_to_proto
from app.kafka.commands.common import (
    ErrorRecord,
    Record,
    consumer,
    response_of,
    run,
    settings_of,
    started,
)
from app.kafka.connection import client_options
from app.kafka.records import ERROR_SOURCE, INFER_TYPE, PIPELINE, Encoding, header
from app.kafka.settings import KafkaSettings
from app.kafka.topics import Topics
from app.protocol.errors import DeadlineExceeded, NotFound
from app.resolver import Kind, target_of


def _request(options: dict[str, Any], name: str, request_id: str) -> bytes:
    """The ModelInferRequest: datatypes as the inputs' JSON or numpy give them (no model
    metadata to read them from)."""
    if options["model_version"] is not None:
        raise ValueError("--model-version: Kafka topics name no version")
    request = InferRequest(
        name,
        [make_input(spec, {}) for spec in options["input"]],
        request_id=request_id,
        outputs=[RequestedOutput(output) for output in options["output"]] or None,
    )
    message: bytes = request_to_proto(name, None, to_protocol(request)).SerializeToString()
    return message


async def _at_end(producer: AIOKafkaProducer, reader: AIOKafkaConsumer, topics: list[str]) -> None:
    """Read every partition of `topics` from its end: what is written afterwards is read."""
    partitions = []
    for topic in topics:
        try:
            found = await producer.partitions_for(topic)
        except UnknownTopicOrPartitionError:
            raise NotFound(f"the broker has no topic {topic} (and does not create it)") from None
        partitions += [TopicPartition(topic, partition) for partition in sorted(found)]
    reader.assign(partitions)
    for partition, offset in (await reader.end_offsets(partitions)).items():
        reader.seek(partition, offset)


async def _first(reader: AIOKafkaConsumer, key: bytes) -> Record:
    """The first record read with `key`."""
    while True:
        for records in (await reader.getmany(timeout_ms=200)).values():
            for record in records:
                if record.key == key:
                    return record


async def _exchange(
    options: dict[str, Any], settings: KafkaSettings, topics: Topics
) -> tuple[Record, float]:
    """Send the request; its answer (or error) record and the latency in ms."""
    target = target_of(options["model"])
    request_id = options["id"] or str(uuid.uuid4())
    value, key = _request(options, target.name, request_id), request_id.encode()
    headers = [(REQUEST_ID, key), (INFER_TYPE, Encoding.PROTO.request_type.encode())]
    if target.kind is Kind.PIPELINE:
        headers.append((PIPELINE, target.name.encode()))
    producer = AIOKafkaProducer(**client_options(settings), acks="all")
    reader = consumer(settings)
    watched = [topics.outputs(target), topics.errors]
    try:
        async with started(settings, producer, reader), asyncio.timeout(options["timeout"]):
            await _at_end(producer, reader, watched)
            begun = time.perf_counter()
            await producer.send_and_wait(topics.inputs(target), value, key=key, headers=headers)
            record = await _first(reader, key)
            return record, (time.perf_counter() - begun) * 1000
    except TimeoutError:
        raise DeadlineExceeded(
            f"no record of request {request_id!r} on {' or '.join(watched)} within "
            f"{options['timeout']:g} s"
        ) from None


def _error_of(record: Record) -> ErrorRecord:
    """The error an errors-topic record reports, naming what failed."""
    source = header(list(record.headers), ERROR_SOURCE) or "?"
    try:
        message = str(orjson.loads(record.value)["error"])
    except (orjson.JSONDecodeError, TypeError, KeyError):
        message = (record.value or b"").decode("utf-8", "replace")
    error = ErrorRecord(f"error from {source}: {message}")
    error.source = source
    return error


async def infer(options: dict[str, Any]) -> InferResponse:
    """Run the inference `options` describe through Kafka; print the outcome."""
    settings = settings_of(options)
    topics = Topics(settings.topic_prefix, settings.namespace)
    record, latency_ms = await _exchange(options, settings, topics)
    if record.topic == topics.errors:
        raise _error_of(record)
    with answer_from(record.topic):
        response = from_protocol(response_of(record.value or b"", list(record.headers)))
    show = as_json if options["json"] else as_table
    print(show(response, latency_ms))
    return response


def run_infer(options: dict[str, Any]) -> int:
    """`oipserve infer --kafka ...`: 0 on success, 1 for an error answer or record, 2 for
    bad input."""
    return run("infer", infer(options))
