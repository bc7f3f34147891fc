"""`oipserve infer --kafka` and `oipserve pipeline inspect --kafka`, each in a subprocess,
against a real broker and a server in process that answers its topics (step topics on)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import orjson
import pytest

from app.server import Server
from tests.client.servers import free_port
from tests.kafka.broker import Reader, producer, serving
from tests.process import oipserve
from tests.repo import add_tfsimples

SCALE_INPUT = 'input-0={"datatype": "FP32", "shape": [1, 2], "data": [1, 2]}'
TF_INPUTS = [
    "-i",
    'INPUT0={"datatype": "INT32", "shape": [1, 2], "data": [5, 7]}',
    "-i",
    'INPUT1={"datatype": "INT32", "shape": [1, 2], "data": [1, 2]}',
]


@pytest.fixture
async def kafka_server(repository: Path, broker: str) -> AsyncIterator[Server]:
    add_tfsimples(repository)
    running = serving(repository, broker, step_topics=True)
    await running.start()
    yield running
    await running.stop(grace=2)


async def infer(broker: str, *args: str) -> tuple[int, str, str]:
    return await oipserve("infer", "--kafka", broker, *args, "--timeout", "30")


async def inspect(broker: str, path: str, request_id: str, *args: str) -> tuple[int, str, str]:
    return await oipserve(
        "pipeline", "inspect", "--kafka", broker, path, "--request-id", request_id, *args
    )


async def test_infer_to_a_model_prints_its_outputs_and_the_id(
    broker: str, kafka_server: Server
) -> None:
    code, out, err = await infer(broker, "scale", "-i", SCALE_INPUT, "--id", "k-1")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[:2] == ["model scale version 1", "request id k-1"]
    assert lines[2].startswith("latency ")
    assert lines[4].split() == ["output", "datatype", "shape", "data"]
    assert lines[5].split() == ["output-0", "FP32", "[1,", "2]", "[[3.", "6.]]"]


async def test_infer_to_a_pipeline_prints_json(broker: str, kafka_server: Server) -> None:
    code, out, err = await infer(broker, "tfsimples.pipeline", *TF_INPUTS, "--json")
    assert code == 0, err
    shown = orjson.loads(out)
    assert len(shown["id"]) == 36  # a fresh UUID
    assert shown["latency_ms"] > 0
    assert shown["outputs"] == [
        {"name": "OUTPUT0", "datatype": "INT32", "shape": [1, 2], "data": [[10, 14]]},
        {"name": "OUTPUT1", "datatype": "INT32", "shape": [1, 2], "data": [[2, 4]]},
    ]


async def test_an_error_record_exits_1_with_its_message(broker: str, kafka_server: Server) -> None:
    code, out, err = await infer(broker, "failing", "-i", SCALE_INPUT)
    assert (code, out) == (1, "")
    assert "oipserve infer: error from failing:" in err
    assert "boom" in err


async def test_infer_over_kafka_refuses_a_version(broker: str) -> None:
    code, _, err = await infer(broker, "scale", "-i", SCALE_INPUT, "--model-version", "1")
    assert code == 2
    assert "--model-version" in err


async def test_inspect_shows_the_steps_and_the_pipeline_of_a_request(
    broker: str, kafka_server: Server
) -> None:
    code, _, err = await infer(broker, "tfsimples.pipeline", *TF_INPUTS, "--id", "r-1")
    assert code == 0, err
    code, out, err = await inspect(broker, "tfsimples", "r-1")
    assert code == 0, err
    rows = [line.split("\t") for line in out.splitlines()]
    assert [row[0] for row in rows] == [
        "tfsimples.inputs.INPUT0",
        "tfsimples.inputs.INPUT1",
        "tfsimples.outputs.OUTPUT0",
        "tfsimples.outputs.OUTPUT1",
        "tfsimple1.outputs.OUTPUT0",
        "tfsimple1.outputs.OUTPUT1",
        "tfsimple2.outputs.OUTPUT0",
        "tfsimple2.outputs.OUTPUT1",
    ]
    assert rows[4] == ["tfsimple1.outputs.OUTPUT0", "INT32", "[1, 2]", "[6,9]"]
    assert rows[2] == ["tfsimples.outputs.OUTPUT0", "INT32", "[1, 2]", "[10,14]"]


async def test_inspect_reads_json_records_and_a_path_selects_one_tensor(
    broker: str, kafka_server: Server
) -> None:
    request = {
        "inputs": [
            {"name": "INPUT0", "datatype": "INT32", "shape": [2], "data": [1, 2]},
            {"name": "INPUT1", "datatype": "INT32", "shape": [2], "data": [3, 4]},
        ]
    }
    sender = await producer(broker)
    async with Reader(broker, ["seldon.default.pipeline.tfsimples.outputs"]) as reader:
        try:
            topic = "seldon.default.pipeline.tfsimples.inputs"
            await sender.send_and_wait(topic, orjson.dumps(request), key=b"r-json")
        finally:
            await sender.stop()
        await reader.wait("r-json")
    code, out, err = await inspect(broker, "tfsimples.tfsimple1.outputs.OUTPUT1", "r-json")
    assert code == 0, err
    assert out.splitlines() == ["tfsimple1.outputs.OUTPUT1\tINT32\t[2]\t[-2,-2]"]
    code, out, err = await inspect(broker, "tfsimples.tfsimples.inputs", "r-json", "--json")
    assert code == 0, err
    assert orjson.loads(out)["tfsimples.inputs.INPUT1"]["data"] == [3, 4]


async def test_inspect_of_an_unknown_request_or_path_says_so(
    broker: str, kafka_server: Server
) -> None:
    code, _, err = await infer(broker, "tfsimples.pipeline", *TF_INPUTS, "--id", "r-2")
    assert code == 0, err
    code, out, err = await inspect(broker, "tfsimples", "nope")
    assert (code, out) == (1, "")
    assert "pipeline 'tfsimples' has no request 'nope' in the last 10 records" in err
    code, _, err = await inspect(broker, "tfsimples.tfsimple1.inputs", "r-2")
    assert code == 2
    assert "request 'r-2' has no tensors at 'tfsimples.tfsimple1.inputs'" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["infer", "scale", "-i", SCALE_INPUT], "give the server's URL, or --kafka BOOTSTRAP"),
        (
            ["infer", "--kafka", "b:9092", "http://x", "scale", "-i", SCALE_INPUT],
            "--kafka goes without a URL",
        ),
        (["pipeline", "inspect", "p", "--request-id", "r"], "give the server's URL"),
    ],
)
async def test_a_url_or_kafka_is_needed(args: list[str], message: str) -> None:
    code, _, err = await oipserve(*args)
    assert code == 2
    assert message in err


async def test_an_absent_broker_is_one_clear_line() -> None:
    absent = f"127.0.0.1:{free_port()}"
    for command in (
        ["pipeline", "inspect", "--kafka", absent, "p", "--request-id", "r"],
        ["infer", "--kafka", absent, "scale", "-i", SCALE_INPUT],
    ):
        code, _, err = await oipserve(*command)
        assert code == 1
        assert f"cannot reach the Kafka brokers at {absent}" in err
        assert "Unclosed" not in err, err
