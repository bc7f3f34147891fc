"""`oipserve pipeline inspect --kafka BOOTSTRAP PIPELINE[.STEP[.inputs|.outputs[.TENSOR]]]
--request-id ID [--offset N]`: as Seldon's `seldon pipeline inspect`, the last N records of
each partition of the pipeline's inputs and outputs topics and of its steps' outputs topics
(`model.<step>.outputs`, written with `pipeline: <name>` by `oipserve serve
--kafka-step-topics`), those of the request printed as the REST inspection prints them."""

from __future__ import annotations

import asyncio
from typing import Any

from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.structs import TopicPartition
from google.protobuf.message import DecodeError

from app.client.inspect_command import message_of, printed, shown, split_path
from app.context import REQUEST_ID
from app.grpc.convert import request_from_proto
from app.grpc.generated import open_inference_pb2 as pb
from app.kafka.commands.common import Record, consumer, response_of, run, settings_of, started
from app.kafka.connection import client_options
from app.kafka.records import PIPELINE, Encoding, encoding_of, header
from app.kafka.settings import KafkaSettings
from app.kafka.topics import INPUTS, OUTPUTS, Topics
from app.protocol.codecs.messages import request_from_body
from app.protocol.errors import DeadlineExceeded, InvalidInput, NotFound, OIPError
from app.protocol.types import InspectedRequest, InspectedTensor
from app.resolver import Kind

READ_SECONDS = 30.0
"""How long reading the records back may take."""


async def _partitions(settings: KafkaSettings, topics: Topics, path: str) -> list[TopicPartition]:
    """The partitions of the topics to read for `path` that the broker has: the pipeline's
    inputs and outputs, and the outputs of the step named (of every model without one)."""
    pipeline, step = split_path(path)[:2]
    mine = [topics.of(Kind.PIPELINE, pipeline, side) for side in (INPUTS, OUTPUTS)]
    admin = AIOKafkaAdminClient(**client_options(settings))
    async with started(settings, admin):
        names = set(await admin.list_topics())
        if step is None:
            wanted = mine + sorted(name for name in names if _model_outputs(topics, name))
        else:
            wanted = mine if step == pipeline else [topics.of(Kind.MODEL, step, OUTPUTS)]
        found = [name for name in wanted if name in names]
        described = await admin.describe_topics(found) if found else []
    return [
        TopicPartition(topic["topic"], partition["partition"])
        for topic in described
        for partition in topic["partitions"]
    ]


def _model_outputs(topics: Topics, name: str) -> bool:
    found = topics.target_of(name)
    return found is not None and found[0].kind is Kind.MODEL and found[1] == OUTPUTS


async def _tail(
    reader: AIOKafkaConsumer, partitions: list[TopicPartition], count: int
) -> list[Record]:
    """The last `count` records of each partition."""
    reader.assign(partitions)
    starts = await reader.beginning_offsets(partitions)
    ends = await reader.end_offsets(partitions)
    left = {}
    for partition in partitions:
        start = max(starts[partition], ends[partition] - count)
        if start < ends[partition]:
            reader.seek(partition, start)
            left[partition] = ends[partition]
    records: list[Record] = []
    while left:
        for partition, got in (await reader.getmany(*left, timeout_ms=200)).items():
            records += [record for record in got if record.offset < left.get(partition, 0)]
        for partition in list(left):
            if await reader.position(partition) >= left[partition]:
                del left[partition]
    return records


def _tensors(record: Record, side: str) -> list[InspectedTensor]:
    """A record's tensors: an inputs record's inputs (a request), an outputs record's outputs."""
    value, headers = record.value or b"", list(record.headers)
    try:
        if side == OUTPUTS:
            tensors: list[Any] = response_of(value, headers).outputs
        elif encoding_of(value, headers) is Encoding.JSON:
            tensors = request_from_body(value).inputs
        else:
            tensors = request_from_proto(pb.ModelInferRequest.FromString(value)).inputs
    except (OIPError, DecodeError) as error:
        text = error.message if isinstance(error, OIPError) else str(error)
        raise InvalidInput(f"{record.topic} offset {record.offset}: {text}") from None
    return [InspectedTensor.of(t.name, t.datatype.value, t.shape, t.data) for t in tensors]


def _found(
    topics: Topics, pipeline: str, request_id: str, records: list[Record]
) -> InspectedRequest:
    """The request's tensors in `records` (its key, or its x-request-id header): the
    pipeline's own under its name, then each step's (records naming the pipeline)."""
    key = request_id.encode()
    kept = []
    for record in records:
        target, side = topics.target_of(record.topic) or (None, "")
        headers = list(record.headers)
        if target is None or (record.key != key and header(headers, REQUEST_ID) != request_id):
            continue
        own = target.kind is Kind.PIPELINE
        if own or header(headers, PIPELINE) == pipeline:
            kept.append((not own, record.timestamp, target.name, record.offset, side, record))
    steps: dict[str, dict[str, list[InspectedTensor]]] = {}
    for step, _, name, _, side, record in sorted(kept, key=lambda row: row[:4]):
        steps.setdefault(name if step else pipeline, {})[side] = _tensors(record, side)
    return InspectedRequest(pipeline=pipeline, id=request_id, steps=steps)


async def inspect(options: dict[str, Any]) -> str:
    """The text (or JSON) the command prints."""
    settings, path, count = settings_of(options), options["path"], options["offset"]
    if count < 1:
        raise ValueError(f"--offset takes a number of records, 1 or more, got {count}")
    topics = Topics(settings.topic_prefix, settings.namespace)
    pipeline, request_id = split_path(path)[0], options["request_id"]
    try:
        async with asyncio.timeout(READ_SECONDS):
            partitions = await _partitions(settings, topics, path)
            reader = consumer(settings)  # made once the brokers answered: else never closed
            async with started(settings, reader):
                records = await _tail(reader, partitions, count) if partitions else []
    except TimeoutError:
        raise DeadlineExceeded(f"the records were not read within {READ_SECONDS:g} s") from None
    found = _found(topics, pipeline, request_id, records)
    if not found.steps:
        raise NotFound(
            f"pipeline {pipeline!r} has no request {request_id!r} in the last {count} records "
            f"of each partition of its topics ({topics.base}.pipeline.{pipeline}.*, "
            f"{topics.base}.model.<step>.outputs); --offset N reads further back"
        )
    return shown(found, path, options["json"])


def run_inspect(options: dict[str, Any]) -> int:
    """`oipserve pipeline inspect --kafka ...`: 0 on success, 1 for a request not found or an
    error of the brokers, 2 for bad input (a path the request has no tensors at included)."""
    return run("pipeline inspect", printed(inspect(options)), message_of)
