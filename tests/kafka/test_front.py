"""The Kafka front against a real broker: requests in JSON and protobuf to models, a
pipeline (with its steps' topics), an explainer and a pipeline fed by another's answers;
every failure as a record of the errors topic; headers, ids and keys; loads and unloads
followed; commits behind the answers; statistics and metrics counting `kafka`."""

from __future__ import annotations

import asyncio
import shutil
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import orjson
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.structs import TopicPartition
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from app.grpc.generated import open_inference_pb2 as pb
from app.server import Server
from app.tracing import Tracing
from tests import toys
from tests.kafka.broker import Reader, Record, producer, serving
from tests.repo import IRIS, add_model, add_pipeline, add_tfsimples

BASE = "seldon.default"
ERRORS = f"{BASE}.errors.errors"
MODEL = f"{BASE}.model.scale.inputs"
TRACEPARENT = b"00-" + b"1" * 32 + b"-" + b"2" * 16 + b"-01"
SCALE = orjson.dumps(
    {"inputs": [{"name": "input-0", "datatype": "FP32", "shape": [1, 2], "data": [1, 2]}]}
)
IRIS_ROW = orjson.dumps(
    {
        "inputs": [
            {"name": "input-0", "datatype": "FP32", "shape": [1, 4], "data": [5.1, 3.5, 1.4, 0.2]}
        ]
    }
)
TF = orjson.dumps(
    {
        "inputs": [
            {"name": "INPUT0", "datatype": "INT32", "shape": [1, 2], "data": [5, 7]},
            {"name": "INPUT1", "datatype": "INT32", "shape": [1, 2], "data": [1, 2]},
        ]
    }
)
OUTPUTS = [
    f"{BASE}.model.scale.outputs",
    f"{BASE}.model.echo.outputs",
    f"{BASE}.model.linear.outputs",
    f"{BASE}.pipeline.tfsimples.outputs",
    f"{BASE}.pipeline.follower.outputs",
    f"{BASE}.model.tfsimple1.outputs",
    f"{BASE}.model.tfsimple2.outputs",
    f"{BASE}.explainer.iris-explainer.outputs",
    f"{BASE}.model.iris-explainer.outputs",
    ERRORS,
]


@pytest.fixture
def kafka_repository(repository: Path) -> Path:
    add_tfsimples(repository)
    shutil.copytree(IRIS.parent / "iris-explainer", repository / "iris-explainer")
    add_pipeline(  # runs on every answer of tfsimples, as Seldon chains pipelines
        repository,
        "follower",
        {
            "input": {
                "externalInputs": ["tfsimples.outputs"],
                "tensorMap": {
                    "tfsimples.outputs.OUTPUT0": "INPUT0",
                    "tfsimples.outputs.OUTPUT1": "INPUT1",
                },
            },
            "steps": [{"name": "tfsimple1"}],
        },
    )
    add_model(repository, "broken-step", "tests.toys:Failing")
    add_model(repository, "linear", "tests.toys:Linear", parameters={"weights": [1.0, 2.0]})
    add_pipeline(repository, "failing", {"steps": [{"name": "broken-step"}]})
    return repository


@pytest.fixture
async def kafka_server(kafka_repository: Path, broker: str) -> AsyncIterator[Server]:
    # writes of a few answers each: the answers of one fetch take several
    running = serving(kafka_repository, broker, step_topics=True, batch_bytes=1024)
    await running.start()
    yield running
    await running.stop(grace=2)


@pytest.fixture
async def reader(broker: str, kafka_server: Server) -> AsyncIterator[Reader]:
    async with Reader(broker, OUTPUTS) as opened:
        yield opened


@pytest.fixture
async def send(broker: str) -> AsyncIterator[AIOKafkaProducer]:
    started = await producer(broker)
    yield started
    await started.stop()


def _headers(record: Record) -> dict[str, str]:
    return {key: value.decode() for key, value in record.headers}


def _tensors(record: Record) -> dict[str, list[Any]]:
    return {o["name"]: o["data"] for o in orjson.loads(record.value)["outputs"]}


async def _until(condition: Callable[[], bool], seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the condition never held"
        await asyncio.sleep(0.05)


async def test_a_json_request_is_answered_on_the_outputs_topic_with_its_key_and_headers(
    send: AIOKafkaProducer, reader: Reader
) -> None:
    headers = [("x-tenant", b"blue"), ("traceparent", TRACEPARENT)]
    await send.send_and_wait(MODEL, SCALE, key=b"json-1", headers=headers)
    (answer,) = await reader.wait("json-1")
    assert answer.topic == f"{BASE}.model.scale.outputs"
    body = orjson.loads(answer.value)
    assert body["id"] == "json-1"
    assert body["outputs"][0]["data"] == [3.0, 6.0]
    found = _headers(answer)
    assert found["x-request-id"] == "json-1"
    assert found["x-tenant"] == "blue"
    assert found["seldon-infer-type"] == "json/inferModelResponse"
    assert found["traceparent"] == TRACEPARENT.decode()


async def test_a_protobuf_request_is_answered_in_protobuf_and_the_header_id_wins(
    send: AIOKafkaProducer, reader: Reader
) -> None:
    request = pb.ModelInferRequest(id="body-id")
    request.inputs.add(name="input-0", datatype="FP32", shape=[1, 3])
    request.raw_input_contents.append(np.array([1, 2, 3], np.float32).tobytes())
    headers = [("x-request-id", b"header-id"), ("seldon-infer-type", b"proto/InferModelRequest")]
    await send.send_and_wait(MODEL, request.SerializeToString(), key=b"proto-1", headers=headers)
    (answer,) = await reader.wait("proto-1")
    response = pb.ModelInferResponse.FromString(answer.value)
    assert response.id == "header-id" == _headers(answer)["x-request-id"]
    assert response.model_name == "scale"
    got = np.frombuffer(response.raw_output_contents[0], np.float32)
    assert got.tolist() == [3.0, 6.0, 9.0]
    assert _headers(answer)["seldon-infer-type"] == "proto/InferModelResponse"


async def test_the_predictor_sees_the_records_id_and_x_headers(
    send: AIOKafkaProducer, reader: Reader
) -> None:
    topic = f"{BASE}.model.linear.inputs"
    headers = [("X-Tenant", b"violet"), ("pipeline", b"not-an-x-header")]
    await send.send_and_wait(topic, SCALE, key=b"seen-1", headers=headers)
    (answer,) = await reader.wait("seen-1")
    assert _tensors(answer) == {"output-0": [5.0]}  # 1*1 + 2*2
    assert ("seen-1", {"x-tenant": "violet"}) in toys.SEEN


async def test_a_record_without_key_or_id_gets_a_new_id_as_key_header_and_body_id(
    send: AIOKafkaProducer, reader: Reader
) -> None:
    await send.send_and_wait(f"{BASE}.model.echo.inputs", SCALE, headers=[("x-mark", b"no-key")])
    (answer,) = await reader.wait_for(lambda record: _headers(record).get("x-mark") == "no-key")
    assert answer.key
    request_id = answer.key.decode()
    assert orjson.loads(answer.value)["id"] == request_id == _headers(answer)["x-request-id"]


async def test_a_pipeline_answers_on_its_topic_and_each_step_on_its_models_topic(
    send: AIOKafkaProducer, reader: Reader
) -> None:
    headers = [("pipeline", b"tfsimples"), ("x-tenant", b"red")]
    await send.send_and_wait(
        f"{BASE}.pipeline.tfsimples.inputs", TF, key=b"pipe-1", headers=headers
    )
    records = await reader.wait("pipe-1", count=5)  # 2 steps, the answer, the follower's 2
    mine = {r.topic: r for r in records if _headers(r)["pipeline"] == "tfsimples"}
    assert sorted(mine) == [
        f"{BASE}.model.tfsimple1.outputs",
        f"{BASE}.model.tfsimple2.outputs",
        f"{BASE}.pipeline.tfsimples.outputs",
    ]
    answer = mine[f"{BASE}.pipeline.tfsimples.outputs"]
    assert _tensors(answer) == {"OUTPUT0": [10, 14], "OUTPUT1": [2, 4]}
    first = mine[f"{BASE}.model.tfsimple1.outputs"]
    assert _tensors(first) == {"OUTPUT0": [6, 9], "OUTPUT1": [4, 5]}
    for record in mine.values():
        assert _headers(record)["x-tenant"] == "red"
        assert _headers(record)["x-request-id"] == "pipe-1"


async def test_a_pipeline_whose_input_names_another_runs_on_its_answers(
    send: AIOKafkaProducer, reader: Reader
) -> None:
    await send.send_and_wait(f"{BASE}.pipeline.tfsimples.inputs", TF, key=b"chain-1")
    records = await reader.wait("chain-1", count=5)
    (followed,) = [r for r in records if r.topic == f"{BASE}.pipeline.follower.outputs"]
    assert _tensors(followed) == {"OUTPUT0": [12, 18], "OUTPUT1": [8, 10]}  # of (10,14),(2,4)
    assert _headers(followed)["pipeline"] == "follower"
    assert _headers(followed)["x-request-id"] == "chain-1"


@pytest.mark.parametrize("kind", ["explainer", "model"])
async def test_an_explainer_answers_under_both_kinds(
    send: AIOKafkaProducer, reader: Reader, kind: str
) -> None:
    key = f"explain-{kind}"
    await send.send_and_wait(f"{BASE}.{kind}.iris-explainer.inputs", IRIS_ROW, key=key.encode())
    (answer,) = await reader.wait(key)
    assert answer.topic == f"{BASE}.{kind}.iris-explainer.outputs"
    (output,) = orjson.loads(answer.value)["outputs"]
    explanation = orjson.loads(output["data"][0])
    assert explanation["meta"]["explainer"] == "iris-explainer"
    assert len(explanation["data"]["attributions"][0]) == 4  # a row of four features
    assert _headers(answer)["x-seldon-alibi-type"] == "explanation"


ERROR_CASES = [
    (MODEL, b"\x0a\xff\xff", [], "scale", "is not a ModelInferRequest"),
    (MODEL, b'{"inputs": 3}', [], "scale", "'inputs' must be"),
    (MODEL, SCALE, [("seldon-model", b"nope")], "nope", "model 'nope' not found"),
    (MODEL, SCALE, [("seldon-model", b"a.b")], "scale", "Bad or missing header seldon-model"),
    (f"{BASE}.model.failing.inputs", SCALE, [], "failing", "failing"),
    (f"{BASE}.pipeline.failing.inputs", SCALE, [], "broken-step", "step 'broken-step'"),
    (
        f"{BASE}.pipeline.tfsimples.inputs",
        TF,
        [("pipeline", b"other")],
        "tfsimples",
        "pipeline header names 'other'",
    ),
]


@pytest.mark.parametrize(("topic", "value", "headers", "source", "message"), ERROR_CASES)
async def test_every_failure_is_a_record_of_the_errors_topic(
    send: AIOKafkaProducer,
    reader: Reader,
    topic: str,
    value: bytes,
    headers: list[tuple[str, bytes]],
    source: str,
    message: str,
) -> None:
    await send.send_and_wait(topic, value, key=b"bad-1", headers=[*headers, ("x-tenant", b"green")])
    (error,) = await reader.wait("bad-1")
    assert error.topic == ERRORS
    assert message in orjson.loads(error.value)["error"]
    found = _headers(error)
    assert found["seldon-pipeline-errors"] == source
    assert found["x-tenant"] == "green"
    assert found["x-request-id"] == "bad-1"


async def test_the_front_follows_loads_and_unloads(
    kafka_server: Server, send: AIOKafkaProducer, reader: Reader
) -> None:
    front = kafka_server.kafka
    assert front is not None
    topic = f"{BASE}.model.echo.inputs"
    await _until(lambda: topic in front.routes)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{kafka_server.http_port}") as client:
        assert (await client.post("/v2/repository/models/echo/unload")).status_code == 200
        await _until(lambda: topic not in front.routes)
        await send.send_and_wait(topic, SCALE, key=b"later")
        await asyncio.sleep(1)
        assert "later" not in reader.records  # kept by the broker for when echo is back
        assert (await client.post("/v2/repository/models/echo/load")).status_code == 200
    (answer,) = await reader.wait("later")
    assert answer.topic == f"{BASE}.model.echo.outputs"


async def test_offsets_are_committed_behind_the_answers_and_requests_are_counted(
    broker: str, kafka_server: Server, send: AIOKafkaProducer, reader: Reader
) -> None:
    for index in range(20):
        await send.send(MODEL, SCALE, key=f"c{index}".encode())
    await send.flush()
    await reader.wait_keys({f"c{index}" for index in range(20)})
    consumer = AIOKafkaConsumer(bootstrap_servers=broker, group_id="oipserve-default")
    await consumer.start()
    try:
        partitions = [TopicPartition(MODEL, p) for p in consumer.partitions_for_topic(MODEL) or ()]

        async def committed() -> int:
            return sum([await consumer.committed(p) or 0 for p in partitions])

        for _ in range(50):
            if await committed() == 20:
                break
            await asyncio.sleep(0.1)
        assert await committed() == 20
    finally:
        await consumer.stop()
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{kafka_server.http_port}") as client:
        statistics = (await client.get("/v2/models/scale/stats")).json()
        metrics = (await client.get("/metrics")).text
    assert statistics["model_stats"][0]["inference_stats"]["success"]["count"] == 20
    series = 'model="scale",outcome="success",protocol="kafka",version="1"'
    assert f"oipserve_requests_total{{{series}}} 20.0" in metrics
    assert "oipserve_kafka_inflight_records 0.0" in metrics
    assert f'oipserve_kafka_consumer_lag{{topic="{MODEL}"}} 0.0' in metrics


async def test_a_record_is_a_consumer_span_child_of_its_traceparent(
    kafka_repository: Path, broker: str
) -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    server = serving(kafka_repository, broker, Tracing(provider))
    await server.start()
    send = await producer(broker)
    try:
        async with Reader(broker, OUTPUTS) as reader:
            headers = [("traceparent", TRACEPARENT)]
            await send.send_and_wait(MODEL, SCALE, key=b"traced", headers=headers)
            await reader.wait("traced")
    finally:
        await send.stop()
        await server.stop(grace=1)
    (span,) = [s for s in exporter.get_finished_spans() if s.name == "infer scale"]
    assert span.kind is SpanKind.CONSUMER
    assert span.parent is not None
    assert f"{span.parent.span_id:016x}" == "2" * 16
    assert (span.attributes or {})["oipserve.front"] == "kafka"
