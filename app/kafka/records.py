"""Kafka records and inference requests, both ways (pure functions, no broker).

A record's value is an OIP request as a protobuf `ModelInferRequest` (Seldon's default) or
as OIP JSON: the `seldon-infer-type` header says which, else `content-type`, else the first
byte (`{`: JSON). A record read from an outputs topic (a pipeline fed by another one's
outputs) holds a response, taken as a request whose inputs are its outputs. The key is the
request id; the answer goes out with the same key, in the same encoding, with every header
of the request, `x-request-id` set to the answer's id; a failure goes to the errors topic
with the same key and headers, `seldon-pipeline-errors` naming what failed, and
`{"error": "..."}` as its value.
"""

from __future__ import annotations

from enum import Enum
from typing import NamedTuple

import orjson
from google.protobuf.message import DecodeError

from app.context import REQUEST_ID
from app.grpc.convert import answer_to_wire, payload_from_proto
from app.grpc.generated import open_inference_pb2 as pb
from app.grpc.raw_requests import request_from_wire
from app.pipelines.spec import PipelineInput
from app.protocol.codecs.messages import (
    BinarySection,
    answer_to_body,
    payload_from_body,
    payload_from_parts,
)
from app.protocol.errors import InvalidInput
from app.protocol.payload import Answer, Payload

Headers = list[tuple[str, bytes]]
"""A record's headers, as aiokafka gives and takes them."""
INFER_TYPE = "seldon-infer-type"
PIPELINE = "pipeline"
"""The header naming the pipeline a record belongs to."""
ERROR_SOURCE = "seldon-pipeline-errors"
"""The header of an error record naming the model (or pipeline step) that failed."""
_DROPPED = frozenset({REQUEST_ID, INFER_TYPE, "content-type"})
"""Headers of a request that its answer sets anew."""


class Encoding(Enum):
    PROTO = ("proto/InferModelRequest", "proto/InferModelResponse")
    JSON = ("json/inferModelRequest", "json/inferModelResponse")

    @property
    def request_type(self) -> str:
        return self.value[0]

    @property
    def response_type(self) -> str:
        return self.value[1]


def header(headers: Headers, name: str) -> str | None:
    """The text of the last header called `name` (in any case), if any."""
    found = None
    for key, value in headers:
        if key.lower() == name:
            found = value
    return None if found is None else found.decode("utf-8", "replace")


def encoding_of(value: bytes, headers: Headers) -> Encoding:
    """How a record's value is written: as its `seldon-infer-type` or `content-type` header
    says, else JSON when it starts with `{`, else protobuf."""
    declared = (header(headers, INFER_TYPE) or header(headers, "content-type") or "").lower()
    if declared.startswith("json/") or "json" in declared:
        return Encoding.JSON
    if declared.startswith("proto/") or "protobuf" in declared:
        return Encoding.PROTO
    return Encoding.JSON if value.lstrip()[:1] == b"{" else Encoding.PROTO


class RecordValue:
    """A record's value as a request, decoded when the DataPlane asks (a response, from an
    outputs topic, when `response`)."""

    __slots__ = ("encoding", "feed", "raw", "value")

    def __init__(self, value: bytes, encoding: Encoding, feed: PipelineInput | None = None) -> None:
        self.value = value
        self.encoding = encoding
        self.feed = feed
        """For a pipeline fed by another's answers: which of its outputs, renamed how."""
        self.raw = False
        """Whether the request sent raw contents (then so does the answer)."""

    def decode(self) -> Payload:
        feed = self.feed
        if self.encoding is Encoding.JSON:
            if feed is None:
                return payload_from_body(self.value)
            return _fed(_payload_from_json_response(self.value), feed)
        if feed is None:
            message, raw = request_from_wire(self.value)
            self.raw = bool(raw)
            return payload_from_proto(message, raw)
        message = request_from_response(response_message(self.value))
        self.raw = bool(message.raw_input_contents)
        return _fed(payload_from_proto(message), feed)

    def answer(self, answer: Answer) -> bytes:
        """The value of the record that answers this one."""
        if self.encoding is Encoding.JSON:
            return answer_to_body(answer)[0]
        return answer_to_wire(answer, raw=self.raw)


def response_message(value: bytes) -> pb.ModelInferResponse:
    """A protobuf record value as a ModelInferResponse; InvalidInput if it is not one."""
    try:
        return pb.ModelInferResponse.FromString(value)
    except DecodeError as error:
        raise InvalidInput(
            f"the record's value is not a ModelInferResponse (protobuf) nor OIP JSON: {error}"
        ) from None


def request_from_response(response: pb.ModelInferResponse) -> pb.ModelInferRequest:
    """The request whose inputs are the response's outputs (how Seldon chains pipelines)."""
    request = pb.ModelInferRequest(id=response.id)
    for key, value in response.parameters.items():
        request.parameters[key].CopyFrom(value)
    for output in response.outputs:  # InferOutputTensor has InferInputTensor's fields
        request.inputs.add().MergeFromString(output.SerializeToString())
    request.raw_input_contents.extend(response.raw_output_contents)
    return request


def _payload_from_json_response(value: bytes) -> Payload:
    try:
        message = orjson.loads(value)
    except orjson.JSONDecodeError as error:
        raise InvalidInput(f"the record's value is not JSON: {error}") from None
    if not isinstance(message, dict) or not isinstance(message.get("outputs"), list):
        raise InvalidInput("the record's value is not an inference response: no 'outputs' list")
    request = {"inputs": message["outputs"], "id": message.get("id")}
    request["parameters"] = message.get("parameters")
    request = {key: value for key, value in request.items() if value is not None}
    return payload_from_parts(request, BinarySection(memoryview(b"")))


def _fed(payload: Payload, feed: PipelineInput) -> Payload:
    """The payload of another pipeline's answer, as `feed` takes it: the outputs it names
    (all when it names none), renamed."""
    inputs = payload.inputs
    if feed.tensors:
        missing = [name for name in feed.tensors if name not in inputs]
        if missing:
            raise InvalidInput(
                f"the answer of pipeline {feed.source!r} has no output {missing[0]!r}; "
                f"outputs: {', '.join(map(repr, inputs))}"
            )
        inputs = {name: inputs[name] for name in feed.tensors}
    payload.inputs = {feed.renames.get(name, name): array for name, array in inputs.items()}
    payload.input_parameters = None
    return payload


def context_headers(key: bytes | None, headers: Headers) -> list[tuple[str, str]]:
    """The headers a record's request context opens with: its own, as lower-case text,
    with the key as the request id when no `x-request-id` header gives one."""
    found = [(name.lower(), value.decode("utf-8", "replace")) for name, value in headers]
    if key and all(name != REQUEST_ID for name, _ in found):
        found.insert(0, (REQUEST_ID, key.decode("utf-8", "replace")))
    return found


class Outgoing(NamedTuple):
    """A record to produce."""

    topic: str
    key: bytes
    value: bytes
    headers: Headers


def _carried(headers: Headers, replaced: set[str]) -> Headers:
    return [(k, v) for k, v in headers if k.lower() not in _DROPPED and k.lower() not in replaced]


def answer_record(
    topic: str,
    key: bytes | None,
    value: bytes,
    headers: Headers,
    echo: list[tuple[str, str]],
    encoding: Encoding,
) -> Outgoing:
    """The record answering a request that came with `key` and `headers`: its `value`, the
    request's headers, then `echo` (the request id and the answer's `x-` headers)."""
    sent = {name for name, _ in echo}
    out = _carried(headers, sent) + [(name, text.encode()) for name, text in echo]
    out.append((INFER_TYPE, encoding.response_type.encode()))
    return Outgoing(topic, key or dict(echo)[REQUEST_ID].encode(), value, out)


def error_record(
    topic: str, key: bytes | None, headers: Headers, request_id: str, source: str, message: str
) -> Outgoing:
    """The errors-topic record of a request that failed at `source` (a model, a pipeline
    step or the record itself) with `message`."""
    out = _carried(headers, {ERROR_SOURCE})
    out += [(REQUEST_ID, request_id.encode()), (ERROR_SOURCE, source.encode())]
    value = orjson.dumps({"error": message})
    return Outgoing(topic, key or request_id.encode(), value, out)
