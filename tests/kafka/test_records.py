"""Records and requests both ways, without a broker: encodings, a response taken as a
request, the ids and headers of answers and errors; topic names; lanes and commits; routes."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import orjson
import pytest

from app.grpc.generated import open_inference_pb2 as pb
from app.kafka.lanes import Lane
from app.kafka.records import (
    Encoding,
    RecordValue,
    answer_record,
    context_headers,
    encoding_of,
    error_record,
    request_from_response,
)
from app.kafka.routes import Route, Served, routes
from app.kafka.topics import Topics
from app.pipelines.spec import PipelineInput
from app.protocol.codecs.datatypes import Datatype
from app.protocol.errors import InvalidInput
from app.protocol.payload import Answer, Output
from app.resolver import Kind, Target

JSON_REQUEST = orjson.dumps(
    {"inputs": [{"name": "x", "datatype": "INT32", "shape": [2], "data": [1, 2]}]}
)


def _proto_request() -> bytes:
    request = pb.ModelInferRequest(id="p-1")
    request.inputs.add(name="x", datatype="INT32", shape=[2])
    request.raw_input_contents.append(np.array([1, 2], np.int32).tobytes())
    return request.SerializeToString()


@pytest.mark.parametrize(
    ("value", "headers", "expected"),
    [
        (JSON_REQUEST, [], Encoding.JSON),
        (b"  " + JSON_REQUEST, [], Encoding.JSON),
        (_proto_request(), [], Encoding.PROTO),
        (JSON_REQUEST, [("seldon-infer-type", b"proto/InferModelRequest")], Encoding.PROTO),
        (_proto_request(), [("Seldon-Infer-Type", b"json/inferModelRequest")], Encoding.JSON),
        (_proto_request(), [("content-type", b"application/json")], Encoding.JSON),
        (JSON_REQUEST, [("content-type", b"application/x-protobuf")], Encoding.PROTO),
    ],
)
def test_the_encoding_is_the_header_s_else_the_first_byte_s(
    value: bytes, headers: list[tuple[str, bytes]], expected: Encoding
) -> None:
    assert encoding_of(value, headers) is expected


@pytest.mark.parametrize("value", [JSON_REQUEST, _proto_request()])
def test_both_encodings_decode_to_the_same_arrays(value: bytes) -> None:
    payload = RecordValue(value, encoding_of(value, [])).decode()
    assert payload.inputs["x"].tolist() == [1, 2]
    assert payload.inputs["x"].dtype == np.int32


def test_an_answer_goes_out_in_its_request_s_encoding() -> None:
    answer = Answer(
        "m", [Output("y", Datatype.FP32, [2], np.array([0.5, 1.5], np.float32))], "1", "r"
    )
    proto = RecordValue(_proto_request(), Encoding.PROTO)
    proto.decode()
    response = pb.ModelInferResponse.FromString(proto.answer(answer))
    assert (response.id, response.model_name) == ("r", "m")
    assert np.frombuffer(response.raw_output_contents[0], np.float32).tolist() == [0.5, 1.5]
    body = orjson.loads(RecordValue(JSON_REQUEST, Encoding.JSON).answer(answer))
    assert body["outputs"][0]["data"] == [0.5, 1.5]


def test_a_response_is_taken_as_the_request_of_its_outputs_renamed_as_fed() -> None:
    response = pb.ModelInferResponse(id="r-1", model_name="p")
    response.outputs.add(name="a", datatype="INT32", shape=[2])
    response.outputs.add(name="b", datatype="INT32", shape=[1])
    response.raw_output_contents.extend([np.array([1, 2], np.int32).tobytes(), b"\x07\0\0\0"])
    request = request_from_response(response)
    assert [t.name for t in request.inputs] == ["a", "b"]
    assert request.id == "r-1"
    feed = PipelineInput("p", ("a",), {"a": "INPUT0"})
    payload = RecordValue(response.SerializeToString(), Encoding.PROTO, feed).decode()
    assert list(payload.inputs) == ["INPUT0"]
    assert payload.inputs["INPUT0"].tolist() == [1, 2]
    json_response = orjson.dumps(
        {"id": "r-1", "outputs": [{"name": "a", "datatype": "INT32", "shape": [2], "data": [3, 4]}]}
    )
    payload = RecordValue(json_response, Encoding.JSON, feed).decode()
    assert payload.inputs["INPUT0"].tolist() == [3, 4]
    with pytest.raises(InvalidInput, match="pipeline 'p' has no output 'c'"):
        RecordValue(json_response, Encoding.JSON, PipelineInput("p", ("c",))).decode()


@pytest.mark.parametrize(
    ("value", "encoding", "message"),
    [
        (b"\x0a\xff\xff", Encoding.PROTO, "is not a ModelInferRequest"),
        (b"{", Encoding.JSON, "JSON"),
        (b'{"inputs": 3}', Encoding.JSON, "'inputs'"),
    ],
)
def test_a_value_that_is_no_request_says_why(
    value: bytes, encoding: Encoding, message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        RecordValue(value, encoding).decode()


def test_the_key_is_the_request_id_unless_a_header_gives_one() -> None:
    assert context_headers(b"k", [("X-Tenant", b"a")]) == [("x-request-id", "k"), ("x-tenant", "a")]
    assert context_headers(b"k", [("x-request-id", b"h")]) == [("x-request-id", "h")]
    assert context_headers(None, []) == []


def test_an_answer_record_carries_the_request_s_headers_and_the_echo() -> None:
    headers = [
        ("x-tenant", b"a"),
        ("pipeline", b"p"),
        ("x-request-id", b"old"),
        ("content-type", b"x"),
    ]
    echo = [("x-request-id", "new"), ("x-tenant", "a"), ("x-seldon-alibi-type", "explanation")]
    out = answer_record("t.outputs", None, b"v", headers, echo, Encoding.JSON)
    assert out.topic == "t.outputs"
    assert out.key == b"new"  # no key: the request id
    assert out.headers == [
        ("pipeline", b"p"),
        ("x-request-id", b"new"),
        ("x-tenant", b"a"),
        ("x-seldon-alibi-type", b"explanation"),
        ("seldon-infer-type", b"json/inferModelResponse"),
    ]
    assert answer_record("t", b"k", b"v", headers, echo, Encoding.PROTO).key == b"k"


def test_an_error_record_names_what_failed() -> None:
    out = error_record("errors", b"k", [("x-tenant", b"a")], "r-1", "step-2", "it broke")
    assert (out.topic, out.key) == ("errors", b"k")
    assert orjson.loads(out.value) == {"error": "it broke"}
    assert out.headers == [
        ("x-tenant", b"a"),
        ("x-request-id", b"r-1"),
        ("seldon-pipeline-errors", b"step-2"),
    ]


def test_topic_names_both_ways() -> None:
    topics = Topics("seldon", "prod")
    iris = Target(Kind.MODEL, "iris")
    assert topics.inputs(iris) == "seldon.prod.model.iris.inputs"
    assert topics.outputs(Target(Kind.PIPELINE, "p")) == "seldon.prod.pipeline.p.outputs"
    assert topics.errors == "seldon.prod.errors.errors"
    assert topics.target_of("seldon.prod.model.iris.inputs") == (iris, "inputs")
    assert topics.target_of("seldon.prod.model.a.b.outputs") == (
        Target(Kind.MODEL, "a.b"),
        "outputs",
    )
    for other in (
        "seldon.default.model.iris.inputs",
        "seldon.prod.errors.errors",
        "seldon.prod.model.x",
    ):
        assert topics.target_of(other) is None


class _Record(NamedTuple):
    offset: int


def _taken(lane: Lane[_Record], count: int) -> list[int]:
    found = [lane.take() for _ in range(count)]
    return [record.offset for record in found if record is not None]


def test_a_lane_gives_records_in_order_and_commits_only_behind_finished_ones() -> None:
    lane: Lane[_Record] = Lane(limit=2)
    assert lane.position() is None
    for offset in range(10, 15):
        lane.add(_Record(offset))
    assert _taken(lane, 2) == [10, 11]
    lane.finish(11)  # out of order: 10 still runs
    assert lane.position() == 10
    assert _taken(lane, 1) == [12]
    lane.finish(10)
    assert lane.position() == 12
    lane.committed = 12
    assert lane.to_commit() is None
    lane.finish(12)
    assert lane.position() == 13  # 13 waits: not past it
    assert _taken(lane, 3) == [13, 14]
    lane.finish(14)
    lane.finish(13)
    assert not lane.busy
    assert lane.to_commit() == 15


def test_a_worker_that_found_nothing_is_not_counted_so_a_later_record_gets_a_new_one() -> None:
    lane: Lane[_Record] = Lane(limit=2)
    lane.add(_Record(0))
    assert lane.hire() == 1
    assert lane.hire() == 0  # one record: one worker
    assert _taken(lane, 1) == [0]
    lane.finish(0)
    assert lane.take() is None  # the worker ends here, whenever its task is done
    lane.add(_Record(1))
    assert lane.hire() == 1  # (the partition may stay silent: nothing else would start one)
    for offset in range(2, 6):
        lane.add(_Record(offset))
    assert lane.hire() == 1  # never more than the limit
    assert lane.workers == 2


def test_a_closed_lane_leaves_what_waits_to_the_next_reader() -> None:
    lane: Lane[_Record] = Lane(limit=1)
    for offset in range(3):
        lane.add(_Record(offset))
    assert _taken(lane, 1) == [0]
    lane.close()
    assert lane.take() is None
    lane.finish(0)
    assert lane.position() == 1  # not past the records left


def test_routes_read_each_inputs_topic_and_what_feeds_a_pipeline() -> None:
    topics = Topics()
    feed = PipelineInput("first", (), {})
    served = [
        Served(Target(Kind.MODEL, "m")),
        Served(Target(Kind.EXPLAINER, "e")),
        Served(Target(Kind.PIPELINE, "second"), feed),
    ]
    found = routes(served, topics)
    e = Target(Kind.EXPLAINER, "e")
    assert found == {
        "seldon.default.model.m.inputs": [
            Route(Target(Kind.MODEL, "m"), "seldon.default.model.m.outputs")
        ],
        "seldon.default.explainer.e.inputs": [Route(e, "seldon.default.explainer.e.outputs")],
        "seldon.default.model.e.inputs": [Route(e, "seldon.default.model.e.outputs")],
        "seldon.default.pipeline.second.inputs": [
            Route(Target(Kind.PIPELINE, "second"), "seldon.default.pipeline.second.outputs")
        ],
        "seldon.default.pipeline.first.outputs": [
            Route(Target(Kind.PIPELINE, "second"), "seldon.default.pipeline.second.outputs", feed)
        ],
    }
